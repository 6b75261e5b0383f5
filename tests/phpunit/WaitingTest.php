<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Lease;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Waiting for a lock: woken by the release (no polling), served first come
 * first served, bounded by waitMs, and no wait at all with waitMs = 0.
 */
final class WaitingTest extends RedisTestCase
{
    private const ORDER = '100000200';
    private const PAY = 'pay_wait';

    /** A child that takes the payment lock, reports, and keeps it until told to release. */
    private function holder(array $options, ?int $ttlMs = null): ForkedChild
    {
        $held = $this->tmp('held');
        $go = $this->tmp('go');
        $child = Forker::spawn(static function () use ($options, $held, $go, $ttlMs): bool {
            $lease = (new ProcessingLock($options))->acquire(self::ORDER, self::PAY, 0, $ttlMs);
            (new OrderLockManager($options))->lock(self::ORDER, 0);
            file_put_contents($held, (string) $lease->token());
            while (!is_file($go)) {
                usleep(1000);
            }
            return $lease->release();
        });
        self::waitForFile($held, 10, $child);
        return $child;
    }

    private function releaseHolder(ForkedChild $holder): void
    {
        self::signal($this->tmp('go'));
        self::assertTrue($holder->wait(), 'the holder still held its lock when told to release');
    }

    private function queueLength(): int
    {
        return $this->resp()->command('LLEN', $this->paymentKey(self::ORDER, self::PAY, 'q'));
    }

    public function testABlockedWaiterIsWokenByTheReleaseNotByPolling(): void
    {
        $options = $this->options();
        $pl = new ProcessingLock($options);
        // Explicit ttl: no watchdog renewals in the measured window either.
        $lease = $pl->acquire(self::ORDER, self::PAY, 0, 20000);

        $waiter = Forker::spawn(static function () use ($options): array {
            $t0 = microtime(true);
            $lease = (new ProcessingLock($options))->acquire(self::ORDER, self::PAY, 20000);
            $acquired = microtime(true);
            return ['waited' => $acquired - $t0, 'acquired' => $acquired, 'token' => $lease->token(), 'released' => $lease->release()];
        });
        self::waitUntil(fn () => $this->queueLength() === 1, 10, 'the waiter to queue');

        // While it waits, the waiter sits in one blocking BLPOP and sends nothing else.
        $before = $this->resp()->commandCalls();
        usleep(1500000);
        $after = $this->resp()->commandCalls();
        $clients = (string) $this->resp()->command('CLIENT', 'LIST');
        $sent = 0;
        foreach ($after as $cmd => $n) {
            if (!in_array($cmd, ['info', 'client|list', 'client'], true)) {
                $sent += $n - ($before[$cmd] ?? 0);
            }
        }
        self::assertLessThanOrEqual(2, $sent, 'commands sent by a waiter during 1.5 s: it must not poll');
        self::assertMatchesRegularExpression('/flags=b\b.*cmd=blpop/', $clients, 'the waiter is blocked in BLPOP');

        $releasedAt = microtime(true);
        self::assertTrue($lease->release());
        $r = $waiter->wait();
        $latencyMs = ($r['acquired'] - $releasedAt) * 1000;

        self::assertTrue($r['released']);
        self::assertGreaterThan($lease->token(), $r['token']);
        self::assertGreaterThanOrEqual(1.5, $r['waited'], 'the waiter really waited for the release');
        // Its deadline was 20 s away and the holder's lease 20 s too: only the hand-off explains this.
        self::assertLessThan(1000, $latencyMs, 'woken by the release');
        $this->recordFigures(['release_to_waiter_acquired_ms' => round($latencyMs, 2), 'commands_while_waiting' => $sent]);
    }

    public function testWaitersAcquireInTheOrderTheyQueuedAndNewcomersDoNotBarge(): void
    {
        $options = $this->options();
        $pl = new ProcessingLock($options);
        $lease = $pl->acquire(self::ORDER, self::PAY, 0, 20000);
        $log = $this->tmp('order');
        touch($log);

        $waiters = [];
        for ($i = 0; $i < 6; $i++) {
            $waiters[$i] = Forker::spawn(static function (int $i) use ($options, $log): int {
                $lease = (new ProcessingLock($options))->acquire(self::ORDER, self::PAY, 20000, 20000);
                file_put_contents($log, "$i\n", FILE_APPEND);
                usleep(20000);
                $token = $lease->token();
                return $lease->release() ? $token : -1;
            }, $i);
            self::waitUntil(fn () => $this->queueLength() === $i + 1, 10, "waiter $i to queue");
        }

        self::assertTrue($lease->release());
        // A newcomer polling without waiting must never slip in between two hand-offs.
        $attempts = 0;
        while (($mine = $pl->tryAcquire(self::ORDER, self::PAY, 5000)) === null) {
            $attempts++;
            usleep(500);
        }
        $seenWhenIGotIt = file($log, FILE_IGNORE_NEW_LINES);
        self::assertTrue($mine->release());

        $tokens = array_map(fn (ForkedChild $w) => $w->wait(), $waiters);
        self::assertSame(['0', '1', '2', '3', '4', '5'], $seenWhenIGotIt, 'FIFO order, all before the newcomer');
        self::assertGreaterThan(10, $attempts, 'the newcomer really tried while the queue was served');
        $sorted = $tokens;
        sort($sorted);
        self::assertSame($sorted, $tokens, 'tokens rise in queue order');
        self::assertCount(6, array_unique($tokens));
        self::assertNotContains(-1, $tokens);
    }

    public function testTheWaitRunsOutWithLockTimeoutExceptionAndTheCallbackNeverRuns(): void
    {
        $options = $this->options();
        $holder = $this->holder($options);
        $pl = new ProcessingLock($options);

        $ran = false;
        $t0 = microtime(true);
        try {
            $pl->executeWithLock(self::ORDER, self::PAY, function () use (&$ran) {
                $ran = true;
            }, 300);
            self::fail('expected LockTimeoutException');
        } catch (LockTimeoutException $e) {
            $elapsed = self::msSince($t0);
            self::assertStringContainsString('payment:' . self::ORDER . ':' . self::PAY, $e->getMessage());
        }
        self::assertFalse($ran, 'the callback must not run without the lock');
        self::assertGreaterThanOrEqual(290, $elapsed, 'it waited for the given time');
        self::assertLessThan(5000, $elapsed);

        // The waiter left the queue: the release does not hand the lock to a ghost.
        self::assertSame(0, $this->queueLength());
        self::assertSame(0, $this->resp()->command('HLEN', $this->paymentKey(self::ORDER, self::PAY, 'qi')));
        $this->releaseHolder($holder);
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
        self::assertNotNull($pl->tryAcquire(self::ORDER, self::PAY));
    }

    public function testAcquireAndLockTimeOutToo(): void
    {
        $options = $this->options();
        $holder = $this->holder($options);

        $t0 = microtime(true);
        try {
            (new ProcessingLock($options))->acquire(self::ORDER, self::PAY, 200);
            self::fail('expected LockTimeoutException');
        } catch (LockTimeoutException $e) {
            self::assertGreaterThanOrEqual(190, self::msSince($t0));
        }
        $t0 = microtime(true);
        self::assertFalse((new OrderLockManager($options))->lock(self::ORDER, 200));
        self::assertGreaterThanOrEqual(190, self::msSince($t0));
        self::assertLessThan(5000, self::msSince($t0));
        $this->releaseHolder($holder);
    }

    public function testTheDefaultWaitIsLockWaitMs(): void
    {
        $options = $this->options(['lock_wait_ms' => 400]);
        $holder = $this->holder($options);
        $t0 = microtime(true);
        try {
            (new ProcessingLock($options))->executeWithLock(self::ORDER, self::PAY, fn () => null);
            self::fail('expected LockTimeoutException');
        } catch (LockTimeoutException) {
            $elapsed = self::msSince($t0);
        }
        self::assertGreaterThanOrEqual(390, $elapsed);
        self::assertLessThan(5000, $elapsed, 'not the 10 s INI default');
        $this->releaseHolder($holder);
    }

    public function testWaitMsZeroDoesNotWait(): void
    {
        // Were waitMs=0 ignored, each call below would wait lock_wait_ms = 5 s.
        $options = $this->options(['lock_wait_ms' => 5000]);
        $holder = $this->holder($options);
        $pl = new ProcessingLock($options);
        $m = new OrderLockManager($options);

        $ran = false;
        $t0 = microtime(true);
        try {
            $pl->executeWithLock(self::ORDER, self::PAY, function () use (&$ran) {
                $ran = true;
            }, 0);
            self::fail('expected LockTimeoutException');
        } catch (LockTimeoutException) {
        }
        try {
            $pl->acquire(self::ORDER, self::PAY, 0);
            self::fail('expected LockTimeoutException');
        } catch (LockTimeoutException) {
        }
        self::assertNull($pl->tryAcquire(self::ORDER, self::PAY));
        self::assertFalse($m->lock(self::ORDER, 0));
        try {
            $m->executeWithOrderLock(self::ORDER, function () use (&$ran) {
                $ran = true;
            }, 0);
            self::fail('expected LockTimeoutException');
        } catch (LockTimeoutException) {
        }
        self::assertFalse($m->waitForUnlock(self::ORDER, 0));
        $elapsed = self::msSince($t0);

        self::assertFalse($ran);
        self::assertLessThan(2000, $elapsed, 'six calls with waitMs=0 together');
        self::assertSame(0, $this->queueLength(), 'waitMs=0 never queues');
        $this->releaseHolder($holder);
    }

    public function testAFreeLockIsTakenAtOnceWithWaitMsZero(): void
    {
        $pl = new ProcessingLock($this->options());
        self::assertSame('done', $pl->executeWithLock(self::ORDER, self::PAY, fn (Lease $l) => 'done', 0));
        $lease = $pl->tryAcquire(self::ORDER, self::PAY);
        self::assertInstanceOf(Lease::class, $lease);
        self::assertTrue($lease->release());
    }
}
