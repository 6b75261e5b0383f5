<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * Base of the Ops*Test classes (monitoring, metrics, logging, bin/monei-locks).
 *
 * locks() reads the INI settings, not an options array, so these tests point
 * monei_concurrency.redis_url / key_prefix at the test's Redis and prefix
 * (ini_set, put back afterwards: ini_restore() does not work for these entries).
 */
abstract class OpsTestCase extends RedisTestCase
{
    /** @var array<string, string|false> */
    private array $savedIni = [];
    private ?ForkedChild $holder = null;

    protected function setUp(): void
    {
        parent::setUp();
        foreach (['redis_url' => self::redisUrl(), 'key_prefix' => $this->prefix] as $name => $value) {
            $this->savedIni[$name] = ini_get("monei_concurrency.$name");
            ini_set("monei_concurrency.$name", $value);
        }
    }

    protected function tearDown(): void
    {
        \Monei\Concurrency\setLogger(null);
        if ($this->holder !== null) {
            $this->holder->kill();
            $this->holder = null;
        }
        foreach ($this->savedIni as $name => $value) {
            if ($value !== false) {
                ini_set("monei_concurrency.$name", $value);
            }
        }
        $this->savedIni = [];
        parent::tearDown();
    }

    /**
     * Starts a child process that runs $take($options) (which takes locks and
     * returns what the test should know, e.g. tokens), reports that plus its
     * pid, host and script, then keeps everything it took until release() is
     * called; the child then runs $release($state) and returns its result.
     *
     * @return array{pid: int, host: string, request: string, state: mixed}
     */
    protected function holdInChild(callable $take, ?callable $release = null, array $extraOptions = []): array
    {
        $options = $this->options($extraOptions);
        $held = $this->tmp('child-held');
        $go = $this->tmp('child-go');
        @unlink($held);
        @unlink($go);
        $this->holder = Forker::spawn(static function () use ($take, $release, $options, $held, $go) {
            $state = $take($options);
            $script = (string) ($_SERVER['SCRIPT_FILENAME'] ?? '');
            file_put_contents($held . '.tmp', serialize([
                'pid' => getmypid(),
                'host' => gethostname(),
                'request' => realpath($script) ?: $script,
                'state' => is_array($state) ? array_filter($state, fn ($v) => !is_object($v)) : null,
            ]));
            rename($held . '.tmp', $held);
            while (!is_file($go)) {
                usleep(1000);
            }
            return $release === null ? null : $release($state);
        });
        return unserialize(self::waitForFile($held));
    }

    /** Lets the child of holdInChild() go on and returns what $release returned. */
    protected function releaseChild(float $timeoutS = 30): mixed
    {
        self::assertNotNull($this->holder, 'no child holds anything');
        self::signal($this->tmp('child-go'));
        $result = $this->holder->wait($timeoutS);
        $this->holder = null;
        return $result;
    }

    /** Pid of the child of holdInChild(). */
    protected function childPid(): int
    {
        self::assertNotNull($this->holder);
        return $this->holder->pid;
    }

    /**
     * Runs a PHP command line (extension loaded through the inherited
     * PHP_INI_SCAN_DIR unless $env says otherwise).
     *
     * @param list<string> $cmd arguments after the php binary
     * @param array<string, string>|null $env extra environment variables
     * @return array{0: int, 1: string, 2: string} exit code, stdout, stderr
     */
    protected static function runPhp(array $cmd, ?array $env = null, float $timeoutS = 30): array
    {
        $fullEnv = null;
        if ($env !== null) {
            $fullEnv = getenv();
            foreach ($env as $k => $v) {
                $fullEnv[$k] = $v;
            }
        }
        $proc = proc_open(array_merge([PHP_BINARY], $cmd), [
            0 => ['file', '/dev/null', 'r'],
            1 => ['pipe', 'w'],
            2 => ['pipe', 'w'],
        ], $pipes, null, $fullEnv);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start php');
        }
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $out = $err = '';
        $deadline = microtime(true) + $timeoutS;
        while (true) {
            $out .= (string) stream_get_contents($pipes[1]);
            $err .= (string) stream_get_contents($pipes[2]);
            $st = proc_get_status($proc);
            if (!$st['running']) {
                break;
            }
            if (microtime(true) > $deadline) {
                proc_terminate($proc, SIGKILL);
                throw new \RuntimeException('php ' . implode(' ', $cmd) . " did not finish within {$timeoutS}s; stderr: $err");
            }
            usleep(2000);
        }
        $out .= (string) stream_get_contents($pipes[1]);
        $err .= (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($proc);
        $code = $st['signaled'] ? 128 + $st['termsig'] : $st['exitcode'];
        return [$code, $out, $err];
    }

    /** Path of bin/monei-locks. */
    protected static function cliPath(): string
    {
        return dirname(__DIR__, 3) . '/php/bin/monei-locks';
    }

    /**
     * Runs bin/monei-locks against the test's Redis and prefix.
     *
     * @return array{0: int, 1: string, 2: string}
     */
    protected function cli(string ...$args): array
    {
        return self::runPhp(array_merge(
            [self::cliPath(), '--redis-url', self::redisUrl(), '--prefix', $this->prefix],
            $args,
        ));
    }
}
