<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\LockLostException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Only the holder can release a lock: unlock() and release() from anybody
 * else return false and leave the holder's lock exactly as it was.
 */
final class OwnershipTest extends RedisTestCase
{
    public function testUnlockOfALockHeldByAnotherProcessReturnsFalseAndFreesNothing(): void
    {
        $held = $this->tmp('held');
        $go = $this->tmp('go');
        $options = $this->options();
        $holder = Forker::spawn(static function () use ($options, $held, $go): array {
            $m = new OrderLockManager($options);
            $locked = $m->lock('100000123', 0);
            file_put_contents($held, '1');
            while (!is_file($go)) {
                usleep(1000);
            }
            return ['locked' => $locked, 'unlock' => $m->unlock('100000123')];
        });
        self::waitForFile($held, 10, $holder);

        $m = new OrderLockManager($options);
        $before = $this->resp()->hgetall($this->orderKey('100000123'));
        self::assertArrayHasKey('owner', $before);
        $pttlBefore = $this->resp()->command('PTTL', $this->orderKey('100000123'));

        self::assertFalse($m->unlock('100000123'), 'unlock() of a lock this process does not hold');
        self::assertFalse($m->unlock('100000123'), 'a second try changes nothing');

        self::assertTrue($m->isLocked('100000123'));
        self::assertSame($before, $this->resp()->hgetall($this->orderKey('100000123')), 'the holder entry is untouched');
        self::assertGreaterThan(0, $this->resp()->command('PTTL', $this->orderKey('100000123')));
        self::assertLessThanOrEqual($pttlBefore, $this->resp()->command('PTTL', $this->orderKey('100000123')));
        self::assertFalse($m->lock('100000123', 0), 'still held by the other process');

        self::signal($go);
        self::assertSame(['locked' => true, 'unlock' => true], $holder->wait());
        self::assertFalse($m->isLocked('100000123'));
        self::assertTrue($m->lock('100000123', 0));
        self::assertTrue($m->unlock('100000123'));
        self::assertFalse($m->unlock('100000123'), 'unlock() once more: not held any more');
    }

    public function testUnlockOfALockNeverTakenReturnsFalse(): void
    {
        $m = new OrderLockManager($this->options());
        self::assertFalse($m->unlock('100000124'));
        self::assertFalse($m->isLocked('100000124'));
        self::assertSame([], $this->resp()->keys($this->prefix . '*'));
    }

    /**
     * A lease that expired while its holder slept: another process took the
     * lock; the old lease's release() and extend() must not touch the new holder.
     */
    public function testAStaleLeaseCannotReleaseOrExtendTheNewHoldersLock(): void
    {
        $options = $this->options();
        $pl = new ProcessingLock($options);
        $stale = $pl->acquire('100000125', 'pay_a', 0, 150);
        $staleToken = $stale->token();
        self::waitUntil(fn () => !$pl->isLocked('100000125', 'pay_a'), 5, 'the short lease to expire');

        $held = $this->tmp('held');
        $go = $this->tmp('go');
        $newHolder = Forker::spawn(static function () use ($options, $held, $go): array {
            $lease = (new ProcessingLock($options))->acquire('100000125', 'pay_a', 0);
            file_put_contents($held, (string) $lease->token());
            while (!is_file($go)) {
                usleep(1000);
            }
            return ['heldAtEnd' => $lease->isHeld(), 'release' => $lease->release()];
        });
        $newToken = (int) self::waitForFile($held, 10, $newHolder);
        self::assertGreaterThan($staleToken, $newToken);
        $owner = $this->resp()->hgetall($this->paymentKey('100000125', 'pay_a'))['owner'] ?? null;
        self::assertNotNull($owner);

        self::assertFalse($stale->isHeld());
        self::assertSame(0, $stale->remainingMs());
        try {
            $stale->extend(60000);
            self::fail('extend() of a lost lease must throw');
        } catch (LockLostException $e) {
            self::assertStringContainsString('payment:100000125:pay_a', $e->getMessage());
        }
        self::assertFalse($stale->release(), 'release() of a lease that expired');
        self::assertFalse($stale->release());

        self::assertSame($owner, $this->resp()->hgetall($this->paymentKey('100000125', 'pay_a'))['owner'] ?? null);
        self::assertTrue($pl->isLocked('100000125', 'pay_a'));
        self::assertNull($pl->tryAcquire('100000125', 'pay_a'));

        self::signal($go);
        self::assertSame(['heldAtEnd' => true, 'release' => true], $newHolder->wait());
        self::assertFalse($pl->isLocked('100000125', 'pay_a'));
    }
}
