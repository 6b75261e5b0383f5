<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\PhpProcess;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * However a PHP request ends while it holds locks (uncaught exception, exit(),
 * fatal error, max_execution_time, memory exhaustion, or simply forgetting to
 * unlock), the locks are released at request end, not left to their 20 s ttl.
 * Each case runs in a separate `php` process.
 */
final class RequestEndTest extends RedisTestCase
{
    private const ORDER = '100000800';
    private const PAY = 'pay_end';
    private const TTL_MS = 20000;

    /** The child: takes the order and payment locks, reports, waits for "go", then ends as told. */
    private const CHILD = <<<'PHP'
        <?php
        declare(strict_types=1);
        use Monei\Concurrency\{Lease, OrderLockManager, ProcessingLock};

        [, $prefix, $dir, $scenario] = $argv;
        $options = ['redis_url' => getenv('REDIS_URL'), 'key_prefix' => $prefix, 'lock_ttl_ms' => 20000];
        $pl = new ProcessingLock($options);
        $m = new OrderLockManager($options);
        register_shutdown_function(function () use ($dir) {
            file_put_contents("$dir/shutdown", sprintf('%.6f', microtime(true)));
        });
        // Called with every lock held: tell the test, wait for its go, note the time.
        function ready(string $dir): void {
            file_put_contents("$dir/held.tmp", '1');
            rename("$dir/held.tmp", "$dir/held");
            while (!is_file("$dir/go")) {
                usleep(500);
            }
            file_put_contents("$dir/last", sprintf('%.6f', microtime(true)));
        }
        $inCallback = function (callable $end) use ($pl, $m, $dir): void {
            $m->executeWithOrderLock('100000800', function () use ($pl, $dir, $end): void {
                $pl->executeWithLock('100000800', 'pay_end', function (Lease $lease) use ($dir, $end): void {
                    ready($dir);
                    $end();
                });
            });
        };
        switch ($scenario) {
            case 'uncaught exception in callback':
                $inCallback(fn () => throw new RuntimeException('uncaught in callback'));
                break;
            case 'uncaught exception with acquired leases':
                $lease = $pl->acquire('100000800', 'pay_end');
                $m->lock('100000800');
                ready($dir);
                throw new RuntimeException('uncaught after acquire');
            case 'exit() in callback':
                $inCallback(fn () => exit(3));
                break;
            case 'exit() in nested callback':
                $m->lock('100000800');
                $m->lock('100000800');
                $pl->executeWithLock('100000800', 'pay_end', function () use ($pl, $dir): void {
                    $pl->executeWithLock('100000800', 'pay_end', function () use ($dir): void {
                        ready($dir);
                        exit(4);
                    });
                });
                break;
            case 'E_USER_ERROR in callback':
                $inCallback(fn () => trigger_error('fatal in callback', E_USER_ERROR));
                break;
            case 'max_execution_time in callback':
                $inCallback(function (): void {
                    set_time_limit(1);
                    for ($i = 0; ; $i++) {
                    }
                });
                break;
            case 'memory exhausted in callback':
                ini_set('memory_limit', '32M');
                $inCallback(function (): void {
                    $a = [];
                    while (true) {
                        $a[] = str_repeat('x', 1 << 20);
                    }
                });
                break;
            case 'lock() without unlock()':
                $m->lock('100000800');
                $m->lock('100000800');
                $kept = $pl->acquire('100000800', 'pay_end');
                ready($dir);
                break;
        }
        PHP;

    /** @return array<string, array{0: string, 1: int, 2: string}> scenario, exit code, stderr excerpt */
    public static function endings(): array
    {
        $cases = [
            'uncaught exception in callback' => [255, 'Uncaught RuntimeException: uncaught in callback'],
            'uncaught exception with acquired leases' => [255, 'Uncaught RuntimeException: uncaught after acquire'],
            'exit() in callback' => [3, ''],
            'exit() in nested callback' => [4, ''],
            'E_USER_ERROR in callback' => [255, 'Fatal error: fatal in callback'],
            'max_execution_time in callback' => [255, 'Maximum execution time of 1 second exceeded'],
            'memory exhausted in callback' => [255, 'Allowed memory size'],
            'lock() without unlock()' => [0, ''],
        ];
        $out = [];
        foreach ($cases as $name => [$code, $err]) {
            $out[$name] = [$name, $code, $err];
        }
        return $out;
    }

    /** @dataProvider endings */
    #[DataProvider('endings')]
    public function testLocksAreFreeRightAfterTheRequestEnds(string $scenario, int $exitCode, string $stderr): void
    {
        $options = $this->options(['lock_ttl_ms' => self::TTL_MS]);
        $dir = $this->tmp();
        $child = PhpProcess::start(self::CHILD, [$this->prefix, $dir, $scenario]);
        self::waitForFile("$dir/held", 10, $child);

        $pl = new ProcessingLock($options);
        $m = new OrderLockManager($options);
        self::assertNull($pl->tryAcquire(self::ORDER, self::PAY), 'the child holds the payment lock');
        self::assertFalse($m->lock(self::ORDER, 0), 'the child holds the order lock');

        // A waiter blocked on the payment lock, to time the release.
        $waiter = Forker::spawn(static function () use ($options): array {
            $lease = (new ProcessingLock($options))->acquire(self::ORDER, self::PAY, 15000);
            $at = microtime(true);
            return ['at' => $at, 'released' => $lease->release()];
        });
        self::waitUntil(fn () => $this->resp()->command('LLEN', $this->paymentKey(self::ORDER, self::PAY, 'q')) === 1, 10, 'the waiter to queue');

        self::signal("$dir/go");
        [$code, $out, $err] = $child->wait(20);
        $exitedAt = microtime(true);

        // Right after the child is gone, without any wait, the order lock is free.
        self::assertTrue($m->lock(self::ORDER, 0), 'order lock still held after the child ended');
        $orderFreeAfterMs = self::msSince($exitedAt);
        self::assertTrue($m->unlock(self::ORDER));

        $w = $waiter->wait(20);
        self::assertTrue($w['released']);
        self::assertNotNull($pl->tryAcquire(self::ORDER, self::PAY), 'payment lock free after the waiter');

        self::assertSame($exitCode, $code, "exit code; stderr: $err");
        self::assertSame('', $out);
        if ($stderr === '') {
            self::assertSame('', $err);
        } else {
            self::assertStringContainsString($stderr, $err);
        }
        self::assertFileExists("$dir/shutdown", 'the request ended through PHP\'s shutdown');

        $last = (float) file_get_contents("$dir/last");
        $shutdown = (float) file_get_contents("$dir/shutdown");
        $fromLastStatementMs = ($w['at'] - $last) * 1000;
        $fromShutdownMs = ($w['at'] - $shutdown) * 1000;
        // Released while the request ends (exit() and some fatals unwind the callback
        // and release there, the rest at request shutdown), never before.
        self::assertGreaterThan(0, $fromLastStatementMs, 'the waiter got the lock before the child ended');
        self::assertLessThan(2000, $fromShutdownMs, 'released at request end, not by the 20 s ttl');
        self::assertLessThan(self::TTL_MS / 10, $orderFreeAfterMs);
        $this->recordFigures([
            'scenario' => $scenario,
            'waiter_acquired_after_last_statement_ms' => round($fromLastStatementMs, 2),
            'waiter_acquired_after_shutdown_function_ms' => round($fromShutdownMs, 2),
            'ttl_ms' => self::TTL_MS,
        ]);
    }

    public function testNothingIsReleasedBeforeTheRequestEnds(): void
    {
        // Control for the test above: a child that keeps running keeps its locks.
        $options = $this->options(['lock_ttl_ms' => self::TTL_MS]);
        $dir = $this->tmp();
        $child = PhpProcess::start(self::CHILD, [$this->prefix, $dir, 'lock() without unlock()']);
        self::waitForFile("$dir/held", 10, $child);
        usleep(300000);
        self::assertTrue((new OrderLockManager($options))->isLocked(self::ORDER));
        self::assertNull((new ProcessingLock($options))->tryAcquire(self::ORDER, self::PAY));
        $child->kill(SIGKILL);
        // Killed, so no request end: the lock stays until its ttl.
        self::assertTrue((new OrderLockManager($options))->isLocked(self::ORDER));
        $this->resp()->command('DEL', $this->orderKey(self::ORDER), $this->paymentKey(self::ORDER, self::PAY));
    }
}
