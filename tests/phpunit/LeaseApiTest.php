<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Lease;
use Monei\Concurrency\LockLostException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * The Lease object and OrderLockManager::waitForUnlock().
 */
final class LeaseApiTest extends RedisTestCase
{
    public function testResourceNames(): void
    {
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        self::assertSame('payment:100000123:pay_abc', $pl->executeWithLock('100000123', 'pay_abc', fn (Lease $l) => $l->resource()));
        self::assertSame('order:100000123', $m->executeWithOrderLock('100000123', fn (Lease $l) => $l->resource()));
        $lease = $pl->acquire('000042', 'p-1', 0);
        self::assertSame('payment:000042:p-1', $lease->resource());
        self::assertTrue($lease->release());
        self::assertSame('payment:000042:p-1', $lease->resource(), 'still readable after release');
    }

    public function testIsHeldAndRemainingMs(): void
    {
        $pl = new ProcessingLock($this->options(['lock_ttl_ms' => 5000]));
        $lease = $pl->acquire('100000700', 'pay', 0, 2000);
        self::assertTrue($lease->isHeld());
        $remaining = $lease->remainingMs();
        self::assertGreaterThan(1000, $remaining);
        self::assertLessThanOrEqual(2000, $remaining);
        $pttl = $this->resp()->command('PTTL', $this->paymentKey('100000700', 'pay'));
        self::assertEqualsWithDelta($pttl, $lease->remainingMs(), 200, 'remainingMs() is what Redis says');

        $auto = $pl->acquire('100000700', 'auto', 0);
        self::assertGreaterThan(0, $auto->remainingMs());
        self::assertLessThanOrEqual(5000, $auto->remainingMs(), 'lock_ttl_ms when no ttl is given');

        self::assertTrue($lease->release());
        self::assertFalse($lease->isHeld());
        self::assertSame(0, $lease->remainingMs());
        self::assertTrue($auto->release());
    }

    public function testExtendLengthensTheLease(): void
    {
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire('100000701', 'pay', 0, 300);
        $lease->extend(5000);
        self::assertGreaterThan(3000, $lease->remainingMs());
        usleep(500000);   // past the original 300 ms
        self::assertTrue($lease->isHeld());
        self::assertTrue($pl->isLocked('100000701', 'pay'));
        $lease->extend(200);
        self::assertLessThanOrEqual(200, $lease->remainingMs(), 'extend() may shorten too: it sets the ttl');
        self::assertTrue($lease->release());
    }

    public function testExtendOfALostLeaseThrowsLockLost(): void
    {
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire('100000702', 'pay', 0, 100);
        // Gone from Redis (isHeld() already says false in the lease's last millisecond).
        self::waitUntil(fn () => !$pl->isLocked('100000702', 'pay'), 5, 'expiry');
        try {
            $lease->extend(5000);
            self::fail('extend() of an expired lease');
        } catch (LockLostException $e) {
            self::assertStringContainsString('payment:100000702:pay', $e->getMessage());
        }
        self::assertFalse($pl->isLocked('100000702', 'pay'), 'extend() did not resurrect it');
        self::assertFalse($lease->release());

        $released = $pl->acquire('100000702', 'pay', 0);
        self::assertTrue($released->release());
        $this->expectException(LockLostException::class);
        $released->extend(5000);
    }

    public function testReleaseIsIdempotent(): void
    {
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire('100000703', 'pay', 0);
        self::assertTrue($lease->release());
        self::assertFalse($lease->release());
        self::assertFalse($lease->release());
        self::assertFalse($pl->isLocked('100000703', 'pay'));
        // Releasing an old lease again does not touch a new holder of the same lock.
        $next = $pl->acquire('100000703', 'pay', 0);
        self::assertFalse($lease->release());
        self::assertTrue($next->isHeld());
        self::assertTrue($next->release());
    }

    public function testADroppedLeaseIsReleased(): void
    {
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire('100000704', 'pay', 0, 60000);
        self::assertTrue($pl->isLocked('100000704', 'pay'));
        unset($lease);
        self::assertFalse($pl->isLocked('100000704', 'pay'), 'an abandoned Lease frees its lock at once');
    }

    public function testIsLockedSeesEveryHolder(): void
    {
        $options = $this->options();
        $pl = new ProcessingLock($options);
        self::assertFalse($pl->isLocked('100000705', 'pay'));
        $lease = $pl->acquire('100000705', 'pay');
        self::assertTrue($pl->isLocked('100000705', 'pay'), 'held by this process');
        self::assertTrue(Forker::run([static fn () => (new ProcessingLock($options))->isLocked('100000705', 'pay')])[0], 'seen from another process');
        self::assertFalse($pl->isLocked('100000705', 'other'));
        self::assertFalse((new OrderLockManager($options))->isLocked('100000705'), 'the order lock is a different lock');
        self::assertTrue($lease->release());
        self::assertFalse($pl->isLocked('100000705', 'pay'));
    }

    /** A child holding the order lock until told to release it; returns when it has it. */
    private function orderHolder(array $options, string $order): ForkedChild
    {
        $held = $this->tmp('held');
        $go = $this->tmp('go');
        $child = Forker::spawn(static function () use ($options, $order, $held, $go): float {
            $m = new OrderLockManager($options);
            $m->lock($order, 0);
            file_put_contents($held, '1');
            while (!is_file($go)) {
                usleep(500);
            }
            $at = microtime(true);
            $m->unlock($order);
            return $at;
        });
        self::waitForFile($held, 10, $child);
        return $child;
    }

    public function testWaitForUnlockOfAFreeLockIsTrueAtOnce(): void
    {
        $m = new OrderLockManager($this->options());
        $t0 = microtime(true);
        self::assertTrue($m->waitForUnlock('100000706', 10000));
        self::assertTrue($m->waitForUnlock('100000706', 0));
        self::assertLessThan(2000, self::msSince($t0));
        self::assertFalse($m->isLocked('100000706'), 'waiting leaves nothing behind');
    }

    public function testWaitForUnlockTimesOutWhileAnotherProcessHoldsIt(): void
    {
        $options = $this->options();
        $holder = $this->orderHolder($options, '100000707');
        $m = new OrderLockManager($options);
        $t0 = microtime(true);
        self::assertFalse($m->waitForUnlock('100000707', 300));
        self::assertGreaterThanOrEqual(290, self::msSince($t0));
        self::assertLessThan(5000, self::msSince($t0));
        self::assertTrue($m->isLocked('100000707'));
        self::signal($this->tmp('go'));
        $holder->wait();
        self::assertFalse($m->isLocked('100000707'));
    }

    public function testWaitForUnlockIsWokenByTheRelease(): void
    {
        $options = $this->options();
        $holder = $this->orderHolder($options, '100000708');
        $m = new OrderLockManager($options);
        $go = $this->tmp('go');
        // Let the holder release 300 ms into a 20 s wait.
        $releaser = Forker::spawn(static function () use ($go): void {
            usleep(300000);
            file_put_contents($go, '1');
        });
        $t0 = microtime(true);
        self::assertTrue($m->waitForUnlock('100000708', 20000));
        $woke = microtime(true);
        $releasedAt = $holder->wait();
        $releaser->wait();
        self::assertGreaterThanOrEqual($releasedAt, $woke, 'it did not return before the release');
        self::assertLessThan(1.0, $woke - $releasedAt, 'woken by the release, far before its 20 s');
        self::assertGreaterThan(250, ($woke - $t0) * 1000);
        self::assertFalse($m->isLocked('100000708'), 'waitForUnlock() does not keep the lock');
        self::assertTrue($m->lock('100000708', 0));
        self::assertTrue($m->unlock('100000708'));
    }

    public function testWaitForUnlockOfALockThisProcessHoldsIsFalseAtOnce(): void
    {
        $m = new OrderLockManager($this->options());
        self::assertTrue($m->lock('100000709', 0));
        $t0 = microtime(true);
        self::assertFalse($m->waitForUnlock('100000709', 10000), 'it would wait for itself');
        self::assertLessThan(1000, self::msSince($t0));
        self::assertTrue($m->isLocked('100000709'));
        self::assertTrue($m->unlock('100000709'));
    }
}
