<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\Lease;
use Monei\Concurrency\LockLostException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\OpsTestCase;

use function Monei\Concurrency\stats;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * forceUnlock(): an operator frees a lock whoever holds it. It records who
 * did it, the old holder finds out at its next extend()/release(), and a
 * waiter gets the lock at once.
 */
final class OpsForceUnlockTest extends OpsTestCase
{
    private const ORDER = '100000800';
    private const PAY = 'pay_force';

    private ?ForkedChild $child = null;

    protected function tearDown(): void
    {
        $this->child?->kill();
        $this->child = null;
        parent::tearDown();
    }

    /** @return iterable<string, array{string}> */
    public static function kinds(): iterable
    {
        yield 'order lock' => ['order'];
        yield 'payment lock' => ['payment'];
    }

    private function forceUnlock(string $kind): bool
    {
        return $kind === 'order'
            ? (new OrderLockManager($this->options()))->forceUnlock(self::ORDER)
            : (new ProcessingLock($this->options()))->forceUnlock(self::ORDER, self::PAY);
    }

    private function inspect(string $kind): ?array
    {
        return $kind === 'order'
            ? (new OrderLockManager($this->options()))->inspect(self::ORDER)
            : (new ProcessingLock($this->options()))->inspect(self::ORDER, self::PAY);
    }

    private function key(string $kind, string $suffix): string
    {
        return $kind === 'order' ? $this->orderKey(self::ORDER, $suffix) : $this->paymentKey(self::ORDER, self::PAY, $suffix);
    }

    /**
     * A child process that holds the lock with a Lease (the order lock: a
     * lock() level plus the Lease of executeWithOrderLock() inside it) and,
     * once told, tries extend() and release() on it.
     *
     * @return array{pid: int, token: int}
     */
    private function holdWithLease(string $kind): array
    {
        $options = $this->options();
        $held = $this->tmp('held');
        $go = $this->tmp('go');
        $this->child = Forker::spawn(static function () use ($kind, $options, $held, $go): array {
            $inside = static function (Lease $lease) use ($held, $go): array {
                file_put_contents($held . '.tmp', serialize(['pid' => getmypid(), 'token' => $lease->token()]));
                rename($held . '.tmp', $held);
                while (!is_file($go)) {
                    usleep(1000);
                }
                $r = ['extend' => 'no exception'];
                try {
                    $lease->extend(30000);
                } catch (LockLostException $e) {
                    $r['extend'] = 'LockLostException: ' . $e->getMessage();
                }
                $r['held'] = $lease->isHeld();
                $r['release'] = $lease->release();
                return $r;
            };
            if ($kind === 'payment') {
                return $inside((new ProcessingLock($options))->acquire(self::ORDER, self::PAY));
            }
            $m = new OrderLockManager($options);
            $m->lock(self::ORDER, 0);
            $r = $m->executeWithOrderLock(self::ORDER, $inside);
            $r['unlock'] = $m->unlock(self::ORDER);
            return $r;
        });
        return unserialize(self::waitForFile($held));
    }

    private function releaseHolder(): array
    {
        self::signal($this->tmp('go'));
        $r = $this->child->wait(20);
        $this->child = null;
        return $r;
    }

    /** @dataProvider kinds */
    #[DataProvider('kinds')]
    public function testFreesALockHeldByAnotherProcessAndRecordsWhoDidIt(string $kind): void
    {
        $child = $this->holdWithLease($kind);
        $held = $this->inspect($kind);
        self::assertSame($child['pid'], $held['pid']);
        self::assertSame($child['token'], $held['token']);

        $before = stats()['forced_unlocks'];
        $t0 = (int) (microtime(true) * 1000);
        self::assertTrue($this->forceUnlock($kind), 'a held lock is freed');
        $t1 = (int) (microtime(true) * 1000);
        self::assertFalse($this->forceUnlock($kind), 'nothing left to free');
        self::assertSame($before + 1, stats()['forced_unlocks'], 'counted once: the second call freed nothing');

        self::assertNull($this->inspect($kind));
        self::assertSame(0, $this->resp()->command('EXISTS', $this->key($kind, 'lock')));

        $forced = $this->resp()->hgetall($this->key($kind, 'forced'));
        self::assertArrayHasKey('by', $forced);
        self::assertArrayHasKey('at', $forced);
        [$host, $pid, $request] = explode("\t", $forced['by']) + ['', '', ''];
        self::assertSame(gethostname(), $host, 'by: host of the process that forced it');
        self::assertSame((string) getmypid(), $pid, 'by: pid of the process that forced it');
        self::assertSame(realpath($_SERVER['SCRIPT_FILENAME']), $request);
        self::assertGreaterThanOrEqual($t0 - 1000, (int) $forced['at']);
        self::assertLessThanOrEqual($t1 + 1000, (int) $forced['at']);
        self::assertStringContainsString("\t" . $child['pid'] . "\t", $forced['holder'] ?? '', 'the holder it took the lock from');
        self::assertSame((string) $child['token'], $forced['token'] ?? null);
        $ttl = $this->resp()->command('PTTL', $this->key($kind, 'forced'));
        self::assertGreaterThan(0, $ttl, 'the record expires');

        // The old holder finds out.
        $r = $this->releaseHolder();
        self::assertStringStartsWith('LockLostException', $r['extend'], 'extend() after the lock was forced free');
        self::assertFalse($r['held']);
        self::assertFalse($r['release'], 'release() after the lock was forced free');
        if ($kind === 'order') {
            self::assertFalse($r['unlock'], 'unlock() after the lock was forced free');
        }
        self::assertNull($this->inspect($kind));
    }

    /** @dataProvider kinds */
    #[DataProvider('kinds')]
    public function testAWaiterIsHandedTheLockAtOnce(string $kind): void
    {
        $child = $this->holdWithLease($kind);
        $options = $this->options();
        $got = $this->tmp('waiter-got');
        $waiter = Forker::spawn(static function () use ($kind, $options, $got): array {
            $t0 = microtime(true);
            $run = function (Lease $l) use ($got, $t0): array {
                $at = microtime(true);
                file_put_contents($got, (string) $at);
                usleep(300000);
                return ['at' => $at, 'waited' => $at - $t0, 'token' => $l->token()];
            };
            return $kind === 'order'
                ? (new OrderLockManager($options))->executeWithOrderLock(self::ORDER, $run, 20000)
                : (new ProcessingLock($options))->executeWithLock(self::ORDER, self::PAY, $run, 20000);
        });
        self::waitUntil(fn () => ($this->inspect($kind)['waiters'] ?? 0) === 1, 10, 'the waiter to queue');
        usleep(100000);
        self::assertFileDoesNotExist($got, 'the waiter waits while the lock is held');

        $forcedAt = microtime(true);
        self::assertTrue($this->forceUnlock($kind));
        $gotAt = (float) self::waitForFile($got, 5);
        self::assertLessThan(0.5, $gotAt - $forcedAt, 'handed over at once, not when the 30 s lease would run out');

        $now = $this->inspect($kind);
        self::assertSame($waiter->pid, $now['pid'], 'the waiter holds it now');
        self::assertGreaterThan($child['token'], $now['token']);
        self::assertSame(0, $now['waiters']);

        $w = $waiter->wait(10);
        self::assertSame($now['token'], $w['token']);
        $r = $this->releaseHolder();
        self::assertFalse($r['release'], 'the old holder cannot release the new holder\'s lock');
        self::assertNull($this->inspect($kind));
    }

    public function testForceUnlockOfOwnLockMarksItsLeaseLost(): void
    {
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire(self::ORDER, self::PAY);
        $lost = stats()['lost_leases'];
        self::assertTrue($pl->forceUnlock(self::ORDER, self::PAY));
        self::assertSame($lost + 1, stats()['lost_leases']);
        self::assertFalse($lease->isHeld());
        try {
            $lease->extend(1000);
            self::fail('extend() of a lease forced free');
        } catch (LockLostException $e) {
            self::assertStringContainsString('payment:' . self::ORDER . ':' . self::PAY, $e->getMessage());
        }
        self::assertFalse($lease->release());
        // Not re-entered into the dead lease: a fresh acquisition works.
        $again = $pl->acquire(self::ORDER, self::PAY, 0);
        self::assertGreaterThan($lease->token(), $again->token());
        self::assertTrue($again->release());
    }
}
