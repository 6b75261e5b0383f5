<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Lease;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Re-entrancy is per process: nested acquisitions never wait for the process
 * itself, and another process gets the lock only after the outermost release.
 */
final class ReentrancyTest extends RedisTestCase
{
    private const ORDER = '100000500';
    private const PAY = 'pay_re';

    /** Whether another process could take the payment lock right now (waitMs = 0). */
    private function otherProcessGetsPayment(string $order = self::ORDER, string $pay = self::PAY): bool
    {
        $options = $this->options();
        return Forker::run([static fn () => (new ProcessingLock($options))->tryAcquire($order, $pay) !== null])[0];
    }

    private function otherProcessGetsOrder(string $order = self::ORDER): bool
    {
        $options = $this->options();
        return Forker::run([static function () use ($options, $order): bool {
            $m = new OrderLockManager($options);
            return $m->lock($order, 0) && $m->unlock($order);
        }])[0];
    }

    public function testNestedExecuteWithLock(): void
    {
        $pl = new ProcessingLock($this->options());
        $seen = [];
        $result = $pl->executeWithLock(self::ORDER, self::PAY, function (Lease $outer) use ($pl, &$seen) {
            $inner = $pl->executeWithLock(self::ORDER, self::PAY, function (Lease $inner) use (&$seen) {
                $seen['inner'] = $this->otherProcessGetsPayment();
                $seen['innerHeld'] = $inner->isHeld();
                return 'inner';
            }, 0);
            $seen['afterInner'] = $this->otherProcessGetsPayment();
            $seen['outerHeld'] = $outer->isHeld();
            return "outer+$inner";
        }, 0);

        self::assertSame('outer+inner', $result);
        self::assertSame(['inner' => false, 'innerHeld' => true, 'afterInner' => false, 'outerHeld' => true], $seen);
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
        self::assertTrue($this->otherProcessGetsPayment());
    }

    public function testLockTwiceNeedsUnlockTwice(): void
    {
        $m = new OrderLockManager($this->options());
        self::assertTrue($m->lock(self::ORDER, 0));
        self::assertTrue($m->lock(self::ORDER, 0), 'a second lock() by the holder does not wait for itself');
        self::assertTrue($m->unlock(self::ORDER));
        self::assertTrue($m->isLocked(self::ORDER));
        self::assertFalse($this->otherProcessGetsOrder(), 'one unlock() of two lock()s frees nothing');
        self::assertTrue($m->unlock(self::ORDER));
        self::assertFalse($m->isLocked(self::ORDER));
        self::assertFalse($m->unlock(self::ORDER));
        self::assertTrue($this->otherProcessGetsOrder());
    }

    /** MONEI's case: the order is locked, then a payment of that order is processed under its own lock. */
    public function testOrderLockThenPaymentLockOfTheSameOrder(): void
    {
        $m = new OrderLockManager($this->options());
        $pl = new ProcessingLock($this->options());
        self::assertTrue($m->lock(self::ORDER, 0));

        $seen = $pl->executeWithLock(self::ORDER, 'pay_1', function (Lease $lease) use ($m, $pl): array {
            return [
                'resource' => $lease->resource(),
                'order' => $this->otherProcessGetsOrder(),
                'payment' => $this->otherProcessGetsPayment(self::ORDER, 'pay_1'),
                'otherPayment' => $this->otherProcessGetsPayment(self::ORDER, 'pay_2'),
                // The order lock is re-entered from inside the payment callback too.
                'orderAgain' => $m->executeWithOrderLock(self::ORDER, fn () => 'nested', 0),
            ];
        }, 0);

        self::assertSame([
            'resource' => 'payment:' . self::ORDER . ':pay_1',
            'order' => false,
            'payment' => false,
            'otherPayment' => true,
            'orderAgain' => 'nested',
        ], $seen);
        self::assertFalse($pl->isLocked(self::ORDER, 'pay_1'));
        self::assertTrue($m->isLocked(self::ORDER), 'the order lock stays until unlock()');
        self::assertFalse($this->otherProcessGetsOrder());
        self::assertTrue($m->unlock(self::ORDER));
        self::assertTrue($this->otherProcessGetsOrder());
    }

    public function testTwoProcessingLockObjectsOfOneProcessShareTheLock(): void
    {
        $a = new ProcessingLock($this->options());
        $b = new ProcessingLock($this->options(['io_timeout_ms' => 1500, 'lock_wait_ms' => 0]));
        $seen = $a->executeWithLock(self::ORDER, self::PAY, function (Lease $outer) use ($b): array {
            $lease = $b->tryAcquire(self::ORDER, self::PAY);
            self::assertNotNull($lease, 'the second object must re-enter, not see the lock as taken');
            $inner = [$lease->token(), $lease->release()];
            return [
                'sameToken' => $inner[0] === $outer->token(),
                'innerRelease' => $inner[1],
                'stillHeld' => $outer->isHeld(),
                'other' => $this->otherProcessGetsPayment(),
                'viaB' => $b->executeWithLock(self::ORDER, self::PAY, fn () => 'b', 0),
            ];
        });
        self::assertSame(['sameToken' => true, 'innerRelease' => true, 'stillHeld' => true, 'other' => false, 'viaB' => 'b'], $seen);
        self::assertFalse($a->isLocked(self::ORDER, self::PAY));
    }

    public function testAcquireTwiceReleasesOnlyAtTheOutermostLevel(): void
    {
        $pl = new ProcessingLock($this->options());
        $outer = $pl->acquire(self::ORDER, self::PAY, 0);
        $inner = $pl->acquire(self::ORDER, self::PAY, 0);
        self::assertSame($outer->token(), $inner->token());
        self::assertTrue($inner->release());
        self::assertFalse($inner->release(), 'a level is released once');
        self::assertFalse($inner->isHeld());
        self::assertTrue($outer->isHeld());
        self::assertFalse($this->otherProcessGetsPayment());
        self::assertTrue($outer->release());
        self::assertTrue($this->otherProcessGetsPayment());
    }

    public function testAnotherProcessWaitingIsServedRightAfterTheOutermostRelease(): void
    {
        $options = $this->options();
        $m = new OrderLockManager($options);
        self::assertTrue($m->lock(self::ORDER));
        self::assertTrue($m->lock(self::ORDER));
        $waiter = Forker::spawn(static function () use ($options): float {
            $m = new OrderLockManager($options);
            if (!$m->lock(self::ORDER, 20000)) {
                return -1.0;
            }
            $t = microtime(true);
            $m->unlock(self::ORDER);
            return $t;
        });
        self::waitUntil(fn () => $this->resp()->command('LLEN', $this->orderKey(self::ORDER, 'q')) === 1, 10, 'the waiter to queue');
        self::assertTrue($m->unlock(self::ORDER));
        usleep(300000);
        self::assertTrue($waiter->running(), 'the waiter got the lock after the inner unlock()');
        $releasedAt = microtime(true);
        self::assertTrue($m->unlock(self::ORDER));
        $got = $waiter->wait();
        self::assertGreaterThanOrEqual($releasedAt, $got);
        self::assertLessThan(2.0, $got - $releasedAt);
    }
}
