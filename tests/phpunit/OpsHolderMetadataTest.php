<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\Lease;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\BuiltInServer;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\OpsTestCase;

/**
 * inspect(): who holds a lock (host, pid, request/script, token, since when,
 * for how much longer, how many wait), recorded beside the lock in Redis and
 * gone with it.
 */
final class OpsHolderMetadataTest extends OpsTestCase
{
    private const ORDER = '100000700';
    private const PAY = 'pay_meta';

    public function testInspectShowsTheHolderOfAPaymentLockHeldByAnotherProcess(): void
    {
        $t0 = microtime(true);
        $child = $this->holdInChild(
            static function (array $o): array {
                $lease = (new ProcessingLock($o))->acquire(self::ORDER, self::PAY);
                return ['lease' => $lease, 'token' => $lease->token(), 'at' => microtime(true)];
            },
            static fn (array $s): bool => $s['lease']->release(),
            ['lock_ttl_ms' => 20000],
        );

        $info = (new ProcessingLock($this->options()))->inspect(self::ORDER, self::PAY);
        self::assertIsArray($info);
        self::assertSame(['resource', 'token', 'host', 'pid', 'request', 'acquired_at', 'held_ms', 'ttl_ms', 'waiters'], array_keys($info));
        self::assertSame('payment:' . self::ORDER . ':' . self::PAY, $info['resource']);
        self::assertSame($this->childPid(), $info['pid']);
        self::assertSame($child['pid'], $info['pid']);
        self::assertNotSame(getmypid(), $info['pid']);
        self::assertSame(gethostname(), $info['host']);
        self::assertSame($child['host'], $info['host']);
        // CLI: the script as PHP opened it (realpath), here PHPUnit's.
        self::assertSame($child['request'], $info['request']);
        self::assertSame(realpath($_SERVER['SCRIPT_FILENAME']), $info['request']);
        self::assertSame($child['state']['token'], $info['token']);
        self::assertIsFloat($info['acquired_at']);
        self::assertEqualsWithDelta($child['state']['at'], $info['acquired_at'], 1.0, 'acquired_at is Redis time in seconds');
        self::assertGreaterThanOrEqual($t0 - 1, $info['acquired_at']);
        self::assertLessThanOrEqual(microtime(true) + 1, $info['acquired_at']);
        self::assertGreaterThanOrEqual(0, $info['held_ms']);
        self::assertLessThan(10000, $info['held_ms']);
        self::assertGreaterThan(10000, $info['ttl_ms'], 'lease of 20 s, renewed by the watchdog');
        self::assertLessThanOrEqual(20000, $info['ttl_ms']);
        self::assertSame(0, $info['waiters']);

        // held_ms grows with the hold.
        usleep(150000);
        $later = (new ProcessingLock($this->options()))->inspect(self::ORDER, self::PAY);
        self::assertGreaterThanOrEqual($info['held_ms'] + 100, $later['held_ms']);
        self::assertSame($info['token'], $later['token']);

        self::assertTrue($this->releaseChild(), 'the child still held its lock');
        self::assertNull((new ProcessingLock($this->options()))->inspect(self::ORDER, self::PAY));
        self::assertSame(0, $this->resp()->command('EXISTS', $this->paymentKey(self::ORDER, self::PAY)));
    }

    /**
     * A web request is labelled "METHOD /path": its query string (reset
     * tokens, signed links) never reaches Redis, where anyone who can read
     * the lock's record would see it.
     */
    public function testAWebRequestIsLabelledWithoutItsQueryString(): void
    {
        $docroot = $this->tmp('www');
        mkdir($docroot);
        file_put_contents("$docroot/hold.php", <<<'PHP'
            <?php
            $pl = new Monei\Concurrency\ProcessingLock(['redis_url' => getenv('REDIS_URL'), 'key_prefix' => getenv('KEY_PREFIX')]);
            $lease = $pl->acquire('100000701', 'pay_web');
            echo json_encode($pl->inspect('100000701', 'pay_web'));
            PHP);
        $secret = 's3cr3t-' . bin2hex(random_bytes(6));
        $server = new BuiltInServer($docroot, $this->tmp('server.err'), ['KEY_PREFIX' => $this->prefix]);
        try {
            $body = $server->get("/hold.php?order=9&token=$secret#frag");
        } finally {
            $server->stop();
        }
        $info = json_decode($body, true);
        self::assertIsArray($info, $body . file_get_contents($this->tmp('server.err')));
        // inspect() reads the holder record from Redis.
        self::assertSame('GET /hold.php', $info['request']);
        self::assertStringNotContainsString($secret, $body);
    }

    public function testInspectOfAnOrderLockAndItsWaiters(): void
    {
        $child = $this->holdInChild(
            static function (array $o): array {
                $m = new OrderLockManager($o);
                $token = $m->executeWithOrderLock(self::ORDER, fn (Lease $l) => $l->token());
                $m->lock(self::ORDER, 0);
                return ['manager' => $m, 'previous' => $token];
            },
            static fn (array $s): bool => $s['manager']->unlock(self::ORDER),
        );
        $m = new OrderLockManager($this->options());
        $info = $m->inspect(self::ORDER);
        self::assertSame('order:' . self::ORDER, $info['resource']);
        self::assertSame($child['pid'], $info['pid']);
        self::assertGreaterThan($child['state']['previous'], $info['token'], 'fencing tokens increase');
        self::assertSame(0, $info['waiters']);

        // Two other processes queue for it.
        $options = $this->options();
        $waiters = [];
        for ($i = 0; $i < 2; $i++) {
            $waiters[] = Forker::spawn(static function () use ($options): array {
                $m = new OrderLockManager($options);
                $m->executeWithOrderLock(self::ORDER, fn () => usleep(20000), 20000);
                return ['pid' => getmypid()];
            }, $i);
        }
        $seen = self::waitUntil(fn () => ($i = $m->inspect(self::ORDER)) !== null && $i['waiters'] === 2 ? $i : null, 10, 'two waiters');
        self::assertSame($child['pid'], $seen['pid'], 'waiting does not change the holder');
        self::assertSame(2, $this->resp()->command('LLEN', $this->orderKey(self::ORDER, 'q')));

        self::assertTrue($this->releaseChild());
        foreach ($waiters as $w) {
            $w->wait(20);
        }
        self::assertNull($m->inspect(self::ORDER));
        self::assertFalse($m->isLocked(self::ORDER));
        // Nothing of the holders or the waiters is left: only the fencing counter.
        $left = $this->resp()->keys($this->prefix . '*');
        self::assertSame([$this->orderKey(self::ORDER, 'fence')], $left);
    }

    public function testInspectOfAFreeLockIsNullAndAReleasedLockLeavesNoHolderRecord(): void
    {
        $pl = new ProcessingLock($this->options());
        self::assertNull($pl->inspect(self::ORDER, self::PAY));
        $lease = $pl->acquire(self::ORDER, self::PAY);
        $info = $pl->inspect(self::ORDER, self::PAY);
        self::assertSame(getmypid(), $info['pid']);
        self::assertSame($lease->token(), $info['token']);
        $raw = $this->resp()->hgetall($this->paymentKey(self::ORDER, self::PAY));
        self::assertStringContainsString((string) getmypid(), $raw['holder'] ?? '', 'the holder record is in the lock hash');

        // Re-entry keeps the same holder record.
        $inner = $pl->acquire(self::ORDER, self::PAY);
        self::assertSame($info['token'], $pl->inspect(self::ORDER, self::PAY)['token']);
        self::assertTrue($inner->release());
        self::assertNotNull($pl->inspect(self::ORDER, self::PAY));

        self::assertTrue($lease->release());
        self::assertNull($pl->inspect(self::ORDER, self::PAY));
        self::assertSame(0, $this->resp()->command('EXISTS', $this->paymentKey(self::ORDER, self::PAY)));
        self::assertSame([$this->paymentKey(self::ORDER, self::PAY, 'fence')], $this->resp()->keys($this->prefix . '*'));
    }
}
