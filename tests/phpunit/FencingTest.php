<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Lease;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Lease::token() is a fencing token: strictly increasing per resource, across
 * processes and re-acquisitions, and shared by the levels of a re-entered lock.
 */
final class FencingTest extends RedisTestCase
{
    public function testTokensRiseStrictlyAcrossProcessesInTheOrderTheLockWasHeld(): void
    {
        $log = $this->tmp('tokens');
        touch($log);
        $options = $this->options();
        $job = static function () use ($options, $log): int {
            $pl = new ProcessingLock($options);
            for ($i = 0; $i < 50; $i++) {
                // Appended while holding the lock, so the file is in holding order.
                $pl->executeWithLock('100000400', 'pay_fence', static function (Lease $l) use ($log): void {
                    file_put_contents($log, $l->token() . "\n", FILE_APPEND);
                }, 30000);
            }
            return 50;
        };
        self::assertSame(200, array_sum(Forker::run(array_fill(0, 4, $job))));

        $tokens = array_map('intval', file($log, FILE_IGNORE_NEW_LINES));
        self::assertCount(200, $tokens);
        for ($i = 1; $i < count($tokens); $i++) {
            self::assertGreaterThan($tokens[$i - 1], $tokens[$i], "token #$i is not above its predecessor");
        }
    }

    public function testTokensRiseAcrossReacquisitionsInOneProcess(): void
    {
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        $last = 0;
        for ($i = 0; $i < 20; $i++) {
            $lease = $i % 2 === 0 ? $pl->acquire('100000401', 'pay') : $pl->tryAcquire('100000401', 'pay', 1000);
            self::assertGreaterThan($last, $lease->token());
            $last = $lease->token();
            self::assertTrue($lease->release());
        }
        $viaCallback = $pl->executeWithLock('100000401', 'pay', fn (Lease $l) => $l->token());
        self::assertGreaterThan($last, $viaCallback);
        // The order lock of the same order is a resource of its own, with its own tokens.
        $orderToken = $m->executeWithOrderLock('100000401', fn (Lease $l) => $l->token());
        self::assertIsInt($orderToken);
        self::assertGreaterThan(0, $orderToken);
    }

    public function testNestedLevelsShareTheOuterToken(): void
    {
        $pl = new ProcessingLock($this->options());
        [$outer, $inner] = $pl->executeWithLock('100000402', 'pay', function (Lease $outer) use ($pl): array {
            return [$outer->token(), $pl->executeWithLock('100000402', 'pay', fn (Lease $inner) => $inner->token(), 0)];
        });
        self::assertSame($outer, $inner);
    }

    public function testTokensKeepRisingAfterTheFenceCounterIsGone(): void
    {
        $pl = new ProcessingLock($this->options());
        $first = $pl->executeWithLock('100000403', 'pay', fn (Lease $l) => $l->token());
        $fence = $this->paymentKey('100000403', 'pay', 'fence');
        self::assertSame(1, $this->resp()->command('EXISTS', $fence));
        self::assertGreaterThan(0, $this->resp()->command('PTTL', $fence), 'the counter expires on its own');
        // As if the counter had expired (or been evicted) between two payments.
        $this->resp()->command('DEL', $fence);
        $second = $pl->executeWithLock('100000403', 'pay', fn (Lease $l) => $l->token());
        self::assertGreaterThan($first, $second);
    }

    public function testTheNextHolderAfterAnExpiryGetsAHigherToken(): void
    {
        $options = $this->options();
        $pl = new ProcessingLock($options);
        $old = $pl->acquire('100000404', 'pay', 0, 100);
        self::waitUntil(fn () => !$pl->isLocked('100000404', 'pay'), 5, 'expiry');
        $new = Forker::run([static function () use ($options): int {
            return (new ProcessingLock($options))->executeWithLock('100000404', 'pay', fn (Lease $l) => $l->token(), 0);
        }])[0];
        self::assertGreaterThan($old->token(), $new);
        self::assertFalse($old->release());
    }
}
