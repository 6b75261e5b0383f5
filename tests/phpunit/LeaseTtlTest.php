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
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * Leases: renewed by the watchdog when no ttl was given, up to max_hold_ms;
 * not renewed with an explicit ttl; and a dead holder's lock frees itself.
 */
final class LeaseTtlTest extends RedisTestCase
{
    private const ORDER = '100000300';
    private const PAY = 'pay_ttl';

    /**
     * A child that tries to take the lock every few ms from the moment $start
     * appears until $stop appears (or it got the lock, if $stopOnSuccess).
     */
    private function prober(array $options, bool $stopOnSuccess = false): ForkedChild
    {
        $start = $this->tmp('start');
        $stop = $this->tmp('stop');
        $got = $this->tmp('got');
        $stopped = $this->tmp('stopped');
        return Forker::spawn(static function () use ($options, $start, $stop, $got, $stopped, $stopOnSuccess): array {
            $pl = new ProcessingLock($options);
            while (!is_file($start)) {
                usleep(500);
            }
            $t0 = (float) file_get_contents($start);
            $attempts = 0;
            $acquiredAfterMs = null;
            while (!is_file($stop)) {
                $attempts++;
                $lease = $pl->tryAcquire(self::ORDER, self::PAY, 5000);
                if ($lease !== null) {
                    $acquiredAfterMs ??= (microtime(true) - $t0) * 1000;
                    if ($stopOnSuccess) {
                        file_put_contents($got, '1');
                        // Keep it until told to stop, so the original holder finds it gone.
                        while (!is_file($stop)) {
                            usleep(500);
                        }
                        $lease->release();
                        break;
                    }
                    $lease->release();
                }
                usleep(10000);
            }
            file_put_contents($stopped, '1');
            return ['attempts' => $attempts, 'acquiredAfterMs' => $acquiredAfterMs];
        });
    }

    /** Tells the prober to stop and waits until it has (before the lock is given up). */
    private function stopProber(ForkedChild $prober): void
    {
        self::signal($this->tmp('stop'));
        self::waitForFile($this->tmp('stopped'), 10, $prober);
    }

    public function testWithoutTtlTheWatchdogKeepsTheLockForACallbackThreeTimesLongerThanTheTtl(): void
    {
        $options = $this->options(['lock_ttl_ms' => 300]);
        $prober = $this->prober($options);
        $pl = new ProcessingLock($options);

        $result = $pl->executeWithLock(self::ORDER, self::PAY, function (Lease $lease) use ($prober): array {
            self::signal($this->tmp('start'), (string) microtime(true));
            usleep(1000000);   // > 3 x lock_ttl_ms
            $state = ['held' => $lease->isHeld(), 'remaining' => $lease->remainingMs()];
            $this->stopProber($prober);
            return $state;
        });
        $probe = $prober->wait();

        self::assertTrue($result['held']);
        self::assertGreaterThan(0, $result['remaining']);
        self::assertLessThanOrEqual(300, $result['remaining']);
        self::assertNull($probe['acquiredAfterMs'], 'another process took the lock while the callback ran');
        self::assertGreaterThan(20, $probe['attempts'], 'the prober really tried during the callback');
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
    }

    public function testALockTakenWithLockWithoutTtlIsRenewedToo(): void
    {
        $options = $this->options(['lock_ttl_ms' => 300]);
        $m = new OrderLockManager($options);
        self::assertTrue($m->lock(self::ORDER));
        usleep(1000000);
        $taken = Forker::run([static fn () => (new OrderLockManager($options))->lock(self::ORDER, 0)])[0];
        self::assertFalse($taken, 'the parked order lock expired although it had no ttl');
        self::assertTrue($m->unlock(self::ORDER));
        self::assertFalse($m->isLocked(self::ORDER));
    }

    public function testAnExplicitTtlIsNotRenewedAndTheLossIsReportedAfterTheCallback(): void
    {
        $options = $this->options(['lock_ttl_ms' => 30000]);
        $prober = $this->prober($options, true);
        $pl = new ProcessingLock($options);

        $finished = false;
        $t0 = microtime(true);
        try {
            $pl->executeWithLock(self::ORDER, self::PAY, function () use (&$finished, $prober): string {
                self::signal($this->tmp('start'), (string) microtime(true));
                // Run until another process got the lock (the 200 ms lease ran out).
                self::waitForFile($this->tmp('got'), 5, $prober);
                $finished = true;
                return 'value';
            }, null, 200);
            self::fail('expected LockLostException');
        } catch (LockLostException $e) {
            self::assertStringContainsString('payment:' . self::ORDER . ':' . self::PAY, $e->getMessage());
        }
        self::assertTrue($finished, 'the callback ran to its end before the loss was reported');
        self::assertGreaterThanOrEqual(150, self::msSince($t0));
        self::assertTrue($pl->isLocked(self::ORDER, self::PAY), 'the new holder keeps its lock');
        self::signal($this->tmp('stop'));
        $probe = $prober->wait();
        self::assertNotNull($probe['acquiredAfterMs']);
        self::assertGreaterThanOrEqual(150, $probe['acquiredAfterMs'], 'not before the 200 ms lease ran out');
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
    }

    public function testTheCallbacksOwnExceptionWinsOverTheLostLease(): void
    {
        $pl = new ProcessingLock($this->options());
        $thrown = new \DomainException('payment declined', 42);
        try {
            $pl->executeWithLock(self::ORDER, self::PAY, function (Lease $lease) use ($thrown): void {
                self::waitUntil(fn () => !$lease->isHeld(), 5, 'the 100 ms lease to run out');
                throw $thrown;
            }, null, 100);
            self::fail('expected the callback exception');
        } catch (\Throwable $e) {
            self::assertSame($thrown, $e);
        }
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
    }

    public function testMaxHoldMsStopsRenewal(): void
    {
        $options = $this->options(['lock_ttl_ms' => 300, 'max_hold_ms' => 600]);
        $prober = $this->prober($options, true);
        $pl = new ProcessingLock($options);

        $finished = false;
        try {
            $pl->executeWithLock(self::ORDER, self::PAY, function () use (&$finished, $prober): void {
                self::signal($this->tmp('start'), (string) microtime(true));
                self::waitForFile($this->tmp('got'), 10, $prober);
                $finished = true;
            });
            self::fail('expected LockLostException');
        } catch (LockLostException) {
        }
        self::assertTrue($finished);
        self::signal($this->tmp('stop'));
        $probe = $prober->wait();
        // Renewed past its first 300 ms (so the watchdog ran), given up after max_hold_ms.
        self::assertGreaterThanOrEqual(450, $probe['acquiredAfterMs'], 'the lease was not renewed at all');
        self::assertLessThan(3000, $probe['acquiredAfterMs']);
        $this->recordFigures(['max_hold_ms' => 600, 'lock_ttl_ms' => 300, 'taken_by_other_after_ms' => round($probe['acquiredAfterMs'])]);
    }

    /** @return array<string, array{0: ?int, 1: string}> */
    public static function killedHolders(): array
    {
        return [
            'watchdog lease (lock_ttl_ms 1000)' => [null, 'acquire'],
            'explicit ttl 1000' => [1000, 'acquire'],
            'order lock()' => [null, 'lock'],
        ];
    }

    /** @dataProvider killedHolders */
    #[DataProvider('killedHolders')]
    public function testALockHeldByAProcessKilledWithSigkillIsFreeWithinItsTtl(?int $ttlMs, string $how): void
    {
        $options = $this->options(['lock_ttl_ms' => 1000]);
        $held = $this->tmp('held');
        $holder = Forker::spawn(static function () use ($options, $held, $ttlMs, $how): void {
            if ($how === 'lock') {
                (new OrderLockManager($options))->lock(self::ORDER, 0, $ttlMs);
            } else {
                $lease = (new ProcessingLock($options))->acquire(self::ORDER, self::PAY, 0, $ttlMs);
            }
            file_put_contents($held, '1');
            sleep(60);
        });
        self::waitForFile($held, 10, $holder);
        usleep(500000);  // the watchdog has renewed by now

        $holder->kill(SIGKILL);
        $killedAt = microtime(true);
        $pl = new ProcessingLock($options);
        $m = new OrderLockManager($options);
        $isLocked = fn () => $how === 'lock' ? $m->isLocked(self::ORDER) : $pl->isLocked(self::ORDER, self::PAY);
        self::assertTrue($isLocked(), 'held right after the kill (nobody released it)');

        // A waiter with a long wait gets it when the dead holder's lease runs out.
        if ($how === 'lock') {
            self::assertTrue($m->lock(self::ORDER, 10000));
            $elapsed = self::msSince($killedAt);
            self::assertTrue($m->unlock(self::ORDER));
        } else {
            $lease = $pl->acquire(self::ORDER, self::PAY, 10000);
            $elapsed = self::msSince($killedAt);
            self::assertTrue($lease->release());
        }
        self::assertLessThan(1000 + 1000, $elapsed, 'free within the 1000 ms ttl (plus margin), long before the 10 s wait');
        self::assertFalse($isLocked());
    }
}
