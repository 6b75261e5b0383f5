<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

/**
 * PHP's built-in web server on a free loopback port, serving one document
 * root from a single long-lived process (as an FPM worker serves request
 * after request). It inherits the test's PHP_INI_SCAN_DIR, so the extension
 * is loaded; stopped (SIGKILL) when stop() is called or the object goes away.
 */
final class BuiltInServer
{
    /** @var resource|null */
    private $proc;
    public readonly int $port;

    /**
     * @param array<string, string> $env added to the test's environment
     * @param list<string> $phpArgs options for php before -S (e.g. "-d", "name=value")
     */
    public function __construct(private string $docroot, private string $errorLog, array $env = [], array $phpArgs = [])
    {
        $this->port = RedisServer::freePort();
        $proc = proc_open([PHP_BINARY, ...$phpArgs, '-S', "127.0.0.1:{$this->port}", '-t', $docroot], [
            0 => ['file', '/dev/null', 'r'],
            1 => ['file', '/dev/null', 'w'],
            2 => ['file', $errorLog, 'w'],
        ], $pipes, null, $env + getenv());
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start php -S');
        }
        $this->proc = $proc;
        $deadline = microtime(true) + 10;
        while (($s = @fsockopen('127.0.0.1', $this->port)) === false) {
            if (microtime(true) > $deadline) {
                $this->stop();
                throw new \RuntimeException('php -S did not start: ' . file_get_contents($errorLog));
            }
            usleep(10_000);
        }
        fclose($s);
    }

    /** The body of GET $path (whatever the status). */
    public function get(string $path): string
    {
        return (string) @file_get_contents(
            "http://127.0.0.1:{$this->port}$path",
            false,
            stream_context_create(['http' => ['timeout' => 10, 'ignore_errors' => true]]),
        );
    }

    /**
     * One request with any method.
     *
     * @return array{0: int, 1: array<string, string>, 2: string} status, headers (lower-case names), body
     */
    public function request(string $method, string $path): array
    {
        $context = stream_context_create(['http' => ['method' => $method, 'timeout' => 10, 'ignore_errors' => true]]);
        $body = (string) @file_get_contents("http://127.0.0.1:{$this->port}$path", false, $context);
        $lines = $http_response_header ?? [];
        $status = preg_match('#^HTTP/\S+ (\d{3})#', (string) ($lines[0] ?? ''), $m) ? (int) $m[1] : 0;
        $headers = [];
        foreach (array_slice($lines, 1) as $line) {
            [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
            $headers[strtolower($name)] = $value;
        }
        return [$status, $headers, $body];
    }

    public function stop(): void
    {
        if ($this->proc !== null) {
            proc_terminate($this->proc, SIGKILL);
            proc_close($this->proc);
            $this->proc = null;
        }
    }

    public function __destruct()
    {
        $this->stop();
    }
}
