<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Lease;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\OpsTestCase;
use Monei\Concurrency\Tests\Support\RedisServer;

use function Monei\Concurrency\locks;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * locks(): every held lock under the INI key prefix, found with SCAN, oldest
 * first, filtered by a glob on resource names, at most $limit of them.
 */
final class OpsLocksListTest extends OpsTestCase
{
    /** @var list<string> */
    private array $junk = [];

    protected function tearDown(): void
    {
        foreach (array_chunk($this->junk, 500) as $chunk) {
            $this->resp()->command('DEL', ...$chunk);
        }
        $this->junk = [];
        parent::tearDown();
    }

    /**
     * Takes locks in an order that is neither alphabetical nor by kind, a few
     * ms apart so that their Redis timestamps differ.
     *
     * @return list<Lease> in acquisition order
     */
    private function takeLocks(): array
    {
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        $leases = [];
        $leases[] = $pl->acquire('300', 'zz');
        usleep(5000);
        $leases[] = $m->executeWithOrderLock('200', fn (Lease $l) => $pl->acquire('200', 'keep'));
        usleep(5000);
        $m->lock('100', 0);
        usleep(5000);
        $leases[] = $pl->acquire('100', 'a*b');
        usleep(5000);
        $leases[] = $pl->acquire('1:2', '3');
        return $leases;
    }

    /** @param list<array<string, mixed>> $locks */
    private static function names(array $locks): array
    {
        return array_column($locks, 'resource');
    }

    public function testOldestFirstWithPatternAndLimit(): void
    {
        $leases = $this->takeLocks();
        $all = locks();
        self::assertSame(
            ['payment:300:zz', 'payment:200:keep', 'order:100', 'payment:100:a*b', 'payment:1:2:3'],
            self::names($all),
        );
        $since = array_column($all, 'acquired_at');
        $sorted = $since;
        sort($sorted);
        self::assertSame($sorted, $since, 'oldest first');
        foreach ($all as $l) {
            self::assertSame(getmypid(), $l['pid']);
            self::assertSame(gethostname(), $l['host']);
            self::assertGreaterThan(0, $l['ttl_ms']);
            self::assertSame(0, $l['waiters']);
        }
        // Each entry is what inspect() says about that lock.
        $fromInspect = (new ProcessingLock($this->options()))->inspect('300', 'zz');
        self::assertSame($fromInspect['token'], $all[0]['token']);
        self::assertSame($leases[0]->token(), $all[0]['token']);

        self::assertSame(['order:100'], self::names(locks('order:*')));
        self::assertSame(['payment:100:a*b'], self::names(locks('payment:100:*')));
        self::assertSame(['order:100', 'payment:100:a*b'], self::names(locks('*:100*')));
        self::assertSame(['payment:300:zz'], self::names(locks('payment:?00:??')));
        self::assertSame(['payment:300:zz', 'payment:200:keep', 'payment:100:a*b'], self::names(locks('payment:?00:??*')));
        self::assertSame(['payment:100:a*b'], self::names(locks('payment:100:a*b')), 'no escape: * also matches itself');
        self::assertSame(['payment:1:2:3'], self::names(locks('payment:1:*')), 'names do not escape ":"');
        self::assertSame([], locks('order:10'));
        self::assertSame([], locks('nothing*'));
        self::assertSame(['order:100'], self::names(locks('order:100')));

        self::assertSame(['payment:300:zz', 'payment:200:keep'], self::names(locks(null, 2)));
        self::assertSame(['payment:300:zz'], self::names(locks('*', 1)));
        self::assertSame(['payment:100:a*b'], self::names(locks('payment:1*', 1)), 'filtered first, then limited');
        self::assertCount(5, locks(null, 10000));

        // Another prefix does not see them; after release they are gone.
        ini_set('monei_concurrency.key_prefix', $this->prefix . 'other:');
        self::assertSame([], locks());
        ini_set('monei_concurrency.key_prefix', $this->prefix);
        foreach ($leases as $l) {
            self::assertTrue($l->release());
        }
        self::assertTrue((new OrderLockManager($this->options()))->unlock('100'));
        self::assertSame([], locks());
    }

    /** @return iterable<string, array{int}> */
    public static function badLimits(): iterable
    {
        yield 'zero' => [0];
        yield 'negative' => [-1];
        yield 'too large' => [10001];
        yield 'huge' => [PHP_INT_MAX];
    }

    /** @dataProvider badLimits */
    #[DataProvider('badLimits')]
    public function testAnInvalidLimitIsRejected(int $limit): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('limit');
        locks(null, $limit);
    }

    public function testFindsTheLocksAmongThousandsOfOtherKeys(): void
    {
        // 3000 unrelated keys, some of them under the same prefix and looking almost like locks.
        $n = 3000;
        $args = [];
        for ($i = 0; $i < $n; $i++) {
            $key = match ($i % 6) {
                0 => $this->prefix . "junk:$i",
                1 => $this->prefix . '{' . $i . '}:order:fence',
                2 => $this->prefix . '{' . $i . '}:order:lockx',
                3 => 'other-' . $this->prefix . '{' . $i . '}:order:lock',
                4 => $this->prefix . 'x{' . $i . '}:order:lock',
                default => "unrelated:{$this->prefix}$i",
            };
            $this->junk[] = $key;
            array_push($args, $key, 'v');
        }
        $this->resp()->command('MSET', ...$args);
        self::assertGreaterThan($n, $this->resp()->command('DBSIZE'));

        $pl = new ProcessingLock($this->options());
        $leases = [];
        foreach (['9001', '9002', '9003'] as $i => $order) {
            $leases[] = $pl->acquire($order, "pay$i");
            usleep(3000);
        }
        $m = new OrderLockManager($this->options());
        self::assertTrue($m->lock('9004', 0));

        $t0 = microtime(true);
        $found = locks(null, 10000);
        $ms = self::msSince($t0);
        self::assertSame(['payment:9001:pay0', 'payment:9002:pay1', 'payment:9003:pay2', 'order:9004'], self::names($found));
        self::assertSame(['payment:9002:pay1'], self::names(locks('payment:9002:*')));
        self::assertSame(['payment:9001:pay0', 'payment:9002:pay1'], self::names(locks(null, 2)));
        self::assertLessThan(5000, $ms, 'one SCAN pass over a few thousand keys');

        foreach ($leases as $l) {
            $l->release();
        }
        $m->unlock('9004');
        self::assertSame([], locks(null, 10000));
    }

    public function testAnUnreachableRedisThrows(): void
    {
        ini_set('monei_concurrency.redis_url', 'redis://127.0.0.1:' . RedisServer::freePort());
        $this->expectException(BackendUnavailableException::class);
        locks();
    }
}
