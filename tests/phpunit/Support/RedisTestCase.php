<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

use PHPUnit\Framework\TestCase;

/**
 * Base for tests that talk to the real redis-server of `make test`.
 * Every test gets its own key prefix, so tests never see each other's keys,
 * and its own scratch directory for files shared with child processes.
 */
abstract class RedisTestCase extends TestCase
{
    protected string $prefix;
    private ?string $tmp = null;
    private ?Resp $resp = null;

    protected function setUp(): void
    {
        $this->prefix = 'php' . getmypid() . '-' . bin2hex(random_bytes(4)) . ':';
    }

    protected function tearDown(): void
    {
        $this->resp = null;
        if ($this->tmp !== null) {
            self::removeTree($this->tmp);
            $this->tmp = null;
        }
    }

    private static function removeTree(string $dir): void
    {
        foreach (@scandir($dir) ?: [] as $name) {
            if ($name === '.' || $name === '..') {
                continue;
            }
            $path = "$dir/$name";
            if (is_dir($path) && !is_link($path)) {
                self::removeTree($path);
            } else {
                @unlink($path);
            }
        }
        @rmdir($dir);
    }

    /** @return array<string, string|int> */
    protected function options(array $extra = []): array
    {
        return $extra + ['redis_url' => self::redisUrl(), 'key_prefix' => $this->prefix];
    }

    protected static function redisUrl(): string
    {
        return (string) getenv('REDIS_URL');
    }

    /** A scratch directory of this test, removed afterwards. */
    protected function tmp(string $name = ''): string
    {
        if ($this->tmp === null) {
            $this->tmp = sys_get_temp_dir() . '/monei-test-' . getmypid() . '-' . bin2hex(random_bytes(4));
            mkdir($this->tmp);
        }
        return $name === '' ? $this->tmp : $this->tmp . '/' . $name;
    }

    /** A raw connection to the shared Redis, for inspecting keys. */
    protected function resp(): Resp
    {
        return $this->resp ??= Resp::fromUrl(self::redisUrl());
    }

    /** Base of the Redis keys of a payment lock (ids must need no escaping). */
    protected function paymentKey(string $order, string $payment, string $suffix = 'lock', ?string $prefix = null): string
    {
        return ($prefix ?? $this->prefix) . '{' . $order . '}:payment:' . $payment . ':' . $suffix;
    }

    protected function orderKey(string $order, string $suffix = 'lock', ?string $prefix = null): string
    {
        return ($prefix ?? $this->prefix) . '{' . $order . '}:order:' . $suffix;
    }

    /** Polls $cond until it returns something truthy; fails the test after $timeoutS. */
    protected static function waitUntil(callable $cond, float $timeoutS = 10, string $what = 'condition', ?callable $diagnose = null): mixed
    {
        $deadline = microtime(true) + $timeoutS;
        while (true) {
            $v = $cond();
            if ($v) {
                return $v;
            }
            if (microtime(true) > $deadline) {
                self::fail("timed out after {$timeoutS}s waiting for $what" . ($diagnose === null ? '' : $diagnose()));
            }
            usleep(2000);
        }
    }

    /**
     * Blocks until $path exists (a child's signal), returns its content. With
     * the child that is to write it, fails at once (with the child's error)
     * if that child ends without writing it.
     */
    protected static function waitForFile(string $path, float $timeoutS = 10, ForkedChild|PhpProcess|null $writer = null): string
    {
        self::waitUntil(function () use ($path, $writer) {
            // PHP caches the last stat(): without this, a file first seen while
            // its writer had created but not yet filled it stays "empty" forever.
            clearstatcache(true, $path);
            if (is_file($path) && filesize($path) > 0) {
                return true;
            }
            if ($writer !== null && !$writer->running() && !is_file($path)) {
                $how = $writer instanceof ForkedChild
                    ? (static function () use ($writer) {
                        try {
                            return 'returned ' . var_export($writer->wait(1), true);
                        } catch (\RuntimeException $e) {
                            return $e->getMessage();
                        }
                    })()
                    : 'exit ' . $writer->wait(1)[0] . ', stderr: ' . $writer->stderr();
                self::fail("the child ended without writing $path: $how");
            }
            return false;
        }, $timeoutS, "file $path", fn () => $writer === null ? '' : self::backtrace($writer->pid()));
        return (string) file_get_contents($path);
    }

    /** All threads' backtraces of a (hung) process, when gdb is installed; for failure messages. */
    protected static function backtrace(int $pid): string
    {
        if (!is_executable('/usr/bin/gdb') || !posix_kill($pid, 0)) {
            return '';
        }
        $out = shell_exec('/usr/bin/gdb -p ' . $pid . ' -batch -ex "thread apply all bt 25" 2>/dev/null');
        $lines = array_filter(explode("\n", (string) $out), fn ($l) => preg_match('/^(Thread|#\d)/', $l));
        return "\nbacktrace of pid $pid:\n" . implode("\n", $lines);
    }

    /** Writes a signal file atomically (readers never see it half written). */
    protected static function signal(string $path, string $content = '1'): void
    {
        file_put_contents($path . '.tmp', $content);
        rename($path . '.tmp', $path);
    }

    /**
     * Figures for the report: appended as a JSON line to the file named by
     * MONEI_TEST_FIGURES when that is set; nothing happens otherwise.
     */
    protected function recordFigures(array $figures): void
    {
        $file = getenv('MONEI_TEST_FIGURES');
        if ($file !== false && $file !== '') {
            $line = json_encode(['test' => static::class . '::' . $this->getName()] + $figures);
            file_put_contents($file, $line . "\n", FILE_APPEND | LOCK_EX);
        }
    }

    /** Milliseconds since $t0 (microtime(true)). */
    protected static function msSince(float $t0): float
    {
        return (microtime(true) - $t0) * 1000;
    }
}
