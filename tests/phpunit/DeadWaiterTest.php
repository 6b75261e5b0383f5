<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

final class DeadWaiterTest extends RedisTestCase
{
    public function testAWaiterKilledWhileQueuedDoesNotBlockTheNextProcess(): void
    {
        $options = $this->options(['lock_ttl_ms' => 5000]);
        $pl = new ProcessingLock($options);
        $lease = $pl->acquire('100001300', 'pay', 0);

        $doomed = Forker::spawn(static function () use ($options): void {
            (new ProcessingLock($options))->acquire('100001300', 'pay', 20000);
        });
        self::waitUntil(fn () => $this->resp()->command('LLEN', $this->paymentKey('100001300', 'pay', 'q')) === 1, 10, 'the waiter to queue');
        $doomed->kill(SIGKILL);

        self::assertTrue($lease->release());
        $t0 = microtime(true);
        $next = Forker::run([static function () use ($options): float {
            $t = microtime(true);
            $lease = (new ProcessingLock($options))->acquire('100001300', 'pay', 20000);
            $waited = (microtime(true) - $t) * 1000;
            $lease->release();
            return $waited;
        }])[0];
        self::assertLessThan(2000, $next, 'the next process waited for the dead waiter\'s lease to expire');
        self::assertLessThan(4000, self::msSince($t0));
    }
}
