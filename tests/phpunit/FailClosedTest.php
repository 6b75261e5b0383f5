<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\RedisServer;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Without a working Redis nothing runs unprotected: every call fails with
 * BackendUnavailableException within its timeouts, and works again once
 * Redis is back, in the same process.
 */
final class FailClosedTest extends RedisTestCase
{
    /**
     * Every way of using the lock, each expected to throw BackendUnavailableException.
     *
     * @return array<string, callable(): mixed>
     */
    private static function operations(array $options, bool &$ran): array
    {
        $pl = new ProcessingLock($options);
        $m = new OrderLockManager($options);
        $cb = function () use (&$ran) {
            $ran = true;
        };
        return [
            'executeWithLock' => fn () => $pl->executeWithLock('100000900', 'pay', $cb, 100),
            'executeWithLock waitMs=0' => fn () => $pl->executeWithLock('100000900', 'pay', $cb, 0),
            'acquire' => fn () => $pl->acquire('100000900', 'pay', 100),
            'tryAcquire' => fn () => $pl->tryAcquire('100000900', 'pay'),
            'isLocked' => fn () => $pl->isLocked('100000900', 'pay'),
            'lock' => fn () => $m->lock('100000900', 100),
            'isLocked (order)' => fn () => $m->isLocked('100000900'),
            'waitForUnlock' => fn () => $m->waitForUnlock('100000900', 100),
            'executeWithOrderLock' => fn () => $m->executeWithOrderLock('100000900', $cb, 100),
        ];
    }

    /** @return array<string, float> elapsed ms per operation; fails if one does not throw */
    private static function assertAllUnavailable(array $options): array
    {
        $ran = false;
        $elapsed = [];
        foreach (self::operations($options, $ran) as $name => $op) {
            $t0 = microtime(true);
            try {
                $op();
                self::fail("$name succeeded without a backend");
            } catch (BackendUnavailableException $e) {
                $elapsed[$name] = self::msSince($t0);
                self::assertInstanceOf(ConcurrencyException::class, $e);
                self::assertInstanceOf(\RuntimeException::class, $e);
            }
        }
        self::assertFalse($ran, 'a callback ran without the lock');
        return $elapsed;
    }

    public function testAClosedPortFailsFastWithBackendUnavailable(): void
    {
        $port = RedisServer::freePort();   // nothing listens there
        $options = ['redis_url' => "redis://127.0.0.1:$port", 'key_prefix' => $this->prefix, 'connect_timeout_ms' => 500];
        $elapsed = self::assertAllUnavailable($options);
        foreach ($elapsed as $name => $ms) {
            self::assertLessThan(500 + 1000, $ms, "$name: within connect_timeout_ms plus margin");
        }
        try {
            (new ProcessingLock($options))->executeWithLock('1', '2', fn () => null);
            self::fail('expected BackendUnavailableException');
        } catch (BackendUnavailableException $e) {
            self::assertStringContainsString("127.0.0.1:$port", $e->getMessage(), 'the message names the server');
        }
    }

    public function testAServerThatNeverAnswersFailsWithinTheIoTimeout(): void
    {
        // Accepts TCP connections (the kernel does) but never reads nor answers.
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        self::assertNotFalse($server, $errstr);
        $name = (string) stream_socket_get_name($server, false);
        $options = [
            'redis_url' => 'redis://' . $name, 'key_prefix' => $this->prefix,
            'connect_timeout_ms' => 300, 'io_timeout_ms' => 300,
        ];
        $ran = false;
        $t0 = microtime(true);
        try {
            (new ProcessingLock($options))->executeWithLock('100000901', 'pay', function () use (&$ran) {
                $ran = true;
            }, 100);
            self::fail('expected BackendUnavailableException');
        } catch (BackendUnavailableException) {
        }
        self::assertFalse($ran);
        self::assertLessThan(300 + 300 + 1500, self::msSince($t0));
        fclose($server);
    }

    public function testRedisGoingDownAndComingBackInTheSameProcess(): void
    {
        $redis = new RedisServer();
        $redis->start();
        $options = ['redis_url' => $redis->url(), 'key_prefix' => $this->prefix, 'connect_timeout_ms' => 500, 'io_timeout_ms' => 1000];
        $pl = new ProcessingLock($options);
        $m = new OrderLockManager($options);

        // Up: works, and leaves pooled connections behind.
        self::assertSame('up', $pl->executeWithLock('100000902', 'pay', fn () => 'up'));
        self::assertTrue($m->lock('100000902', 0));
        self::assertTrue($m->unlock('100000902'));

        $redis->stop();
        $elapsed = self::assertAllUnavailable($options);
        self::assertLessThan(1500 + 1000, max($elapsed));
        // And it keeps failing (no half-dead state) while Redis is down.
        self::assertAllUnavailable($options);

        $redis->start();
        self::assertSame('back', $pl->executeWithLock('100000902', 'pay', fn () => 'back'));
        self::assertTrue($m->lock('100000902', 0));
        self::assertTrue($m->isLocked('100000902'));
        self::assertTrue($m->unlock('100000902'));
        self::assertFalse($pl->isLocked('100000902', 'pay'));
        $lease = $pl->acquire('100000902', 'pay', 0);
        self::assertTrue($lease->isHeld());
        self::assertTrue($lease->release());
    }

    public function testALeaseWhoseRedisWentAwayIsNotReportedAsHeld(): void
    {
        $redis = new RedisServer();
        $redis->start();
        $pl = new ProcessingLock(['redis_url' => $redis->url(), 'key_prefix' => $this->prefix, 'connect_timeout_ms' => 300]);
        $lease = $pl->acquire('100000903', 'pay', 0, 10000);
        $redis->stop();
        try {
            $held = $lease->isHeld();
            self::assertFalse($held);
        } catch (BackendUnavailableException) {
            // Equally fine: it cannot tell, and says so.
        }
        $redis->start();   // empty: the lock is gone with the old server
        self::assertFalse($lease->isHeld());
        self::assertFalse($lease->release());
        self::assertNotNull($pl->tryAcquire('100000903', 'pay'));
    }

    public function testAWrongPasswordFailsWithoutRevealingIt(): void
    {
        $right = 'Right-Pass-' . bin2hex(random_bytes(4));
        $wrong = 'Wr0ng-Secret-' . bin2hex(random_bytes(4));
        $redis = new RedisServer(['--requirepass', $right]);
        $redis->start($right);

        foreach ([$redis->url($wrong), "redis://default:$wrong@127.0.0.1:{$redis->port}", $redis->url()] as $url) {
            $ran = false;
            try {
                (new ProcessingLock(['redis_url' => $url, 'key_prefix' => $this->prefix]))
                    ->executeWithLock('100000904', 'pay', function () use (&$ran) {
                        $ran = true;
                    });
                self::fail("no exception for $url");
            } catch (BackendUnavailableException $e) {
                self::assertStringNotContainsString($wrong, $e->getMessage());
                self::assertStringNotContainsString($wrong, (string) $e);
                self::assertStringNotContainsString($right, (string) $e);
                self::assertNull($e->getPrevious());
            }
            self::assertFalse($ran);
        }

        // The right password works: the failures above were about authentication.
        $pl = new ProcessingLock(['redis_url' => $redis->url($right), 'key_prefix' => $this->prefix]);
        self::assertSame('ok', $pl->executeWithLock('100000904', 'pay', fn () => 'ok'));
    }
}
