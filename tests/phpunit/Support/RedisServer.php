<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * A private redis-server on a free loopback port, owned by one test: it can
 * be stopped and started again on the same port without touching the shared
 * server of the test run.
 */
final class RedisServer
{
    /** @var resource|null */
    private $proc = null;
    private string $dir;

    /** @param list<string> $extraArgs e.g. ['--requirepass', 'x'] */
    public function __construct(private array $extraArgs = [], public int $port = 0)
    {
        $this->dir = sys_get_temp_dir() . '/monei-redis-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($this->dir);
        if ($this->port === 0) {
            $this->port = self::freePort();
        }
    }

    public function __destruct()
    {
        $this->stop();
        foreach (glob($this->dir . '/*') ?: [] as $f) {
            unlink($f);
        }
        @rmdir($this->dir);
    }

    public static function freePort(): int
    {
        $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($s === false) {
            throw new \RuntimeException("no free port: $errstr");
        }
        $name = stream_socket_get_name($s, false);
        fclose($s);
        return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
    }

    public function url(?string $password = null): string
    {
        $auth = $password === null ? '' : ':' . rawurlencode($password) . '@';
        return "redis://{$auth}127.0.0.1:{$this->port}";
    }

    public function start(?string $password = null): void
    {
        if ($this->proc !== null) {
            return;
        }
        $cmd = array_merge(['redis-server', '--port', (string) $this->port, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'no', '--dir', $this->dir], $this->extraArgs);
        $proc = proc_open($cmd, [
            0 => ['file', '/dev/null', 'r'],
            1 => ['file', $this->dir . '/redis.log', 'a'],
            2 => ['file', $this->dir . '/redis.log', 'a'],
        ], $pipes);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start redis-server');
        }
        $this->proc = $proc;
        $deadline = microtime(true) + 10;
        while (true) {
            try {
                $c = new Resp('127.0.0.1', $this->port, $password, 0.5);
                if ($c->command('PING') === 'PONG') {
                    return;
                }
            } catch (\RuntimeException $e) {
                if (microtime(true) > $deadline) {
                    throw new \RuntimeException('redis-server did not come up: ' . @file_get_contents($this->dir . '/redis.log'));
                }
                usleep(20000);
            }
        }
    }

    /** Stops the server (SIGKILL: no save, no goodbye) and waits until it is gone. */
    public function stop(): void
    {
        if ($this->proc === null) {
            return;
        }
        proc_terminate($this->proc, SIGKILL);
        while (proc_get_status($this->proc)['running']) {
            usleep(2000);
        }
        proc_close($this->proc);
        $this->proc = null;
    }
}
