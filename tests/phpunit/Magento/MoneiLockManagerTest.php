<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\Exception\LocalizedException;
use Monei\Concurrency\LockTimeoutException;
use Monei\ConcurrencyMonei\Model\LockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\MoneiPayment\Api\LockManagerInterface;

/**
 * The drop-in for MONEI's LockManagerInterface. The case MONEI's module
 * cannot do on Magento's database lock backend: the order lock, then a
 * payment lock of that order, then the same order lock again (cron path),
 * all held at once by one process while other processes are kept out.
 */
final class MoneiLockManagerTest extends MagentoTestCase
{
    private const ORDER = '100000777';
    private const PAY = 'pay_7a1b';

    private function locks(array $env = []): LockManager
    {
        return new LockManager($this->app($env, withShop: false)->backend);
    }

    /** What another process gets right now (waits of 0 s), releasing whatever it took. */
    private function otherProcess(): array
    {
        return Forker::run([function (): array {
            $m = $this->locks();
            $r = [
                'isOrderLocked' => $m->isOrderLocked(self::ORDER),
                'isPaymentLocked' => $m->isPaymentLocked(self::ORDER, self::PAY),
                'lockOrder' => $m->lockOrder(self::ORDER, 0),
                'lockPayment' => $m->lockPayment(self::ORDER, self::PAY, 0),
                'lockOtherPayment' => $m->lockPayment(self::ORDER, 'pay_other', 0),
            ];
            $r['lockOrder'] && $m->unlockOrder(self::ORDER);
            $r['lockPayment'] && $m->unlockPayment(self::ORDER, self::PAY);
            $r['lockOtherPayment'] && $m->unlockPayment(self::ORDER, 'pay_other');
            return $r;
        }])[0];
    }

    /** A child holding the payment lock until "release" appears (or $autoReleaseS); returns microtime() of its release. */
    private function holdPaymentInChild(float $autoReleaseS = 30): ForkedChild
    {
        $held = $this->tmp('held');
        $release = $this->tmp('release');
        $child = Forker::spawn(function () use ($held, $release, $autoReleaseS): float {
            $m = $this->locks();
            if (!$m->lockPayment(self::ORDER, self::PAY, 0)) {
                throw new \RuntimeException('child could not lock');
            }
            self::signal($held);
            $until = microtime(true) + $autoReleaseS;
            while (!is_file($release) && microtime(true) < $until) {
                usleep(1000);
            }
            $m->unlockPayment(self::ORDER, self::PAY);
            return microtime(true);
        });
        self::waitForFile($held);
        return $child;
    }

    public function testImplementsMoneisInterface(): void
    {
        self::assertInstanceOf(LockManagerInterface::class, $this->locks());
    }

    public function testOrderLockThenPaymentLockThenOrderLockAgain(): void
    {
        $m = $this->locks();
        $log = $this->tmp('waiter.log');
        self::assertTrue($m->lockOrder(self::ORDER), 'lockOrder');
        self::assertTrue($m->lockPayment(self::ORDER, self::PAY), 'lockPayment while holding the order lock');
        self::assertTrue($m->lockOrder(self::ORDER), 'lockOrder again (re-entry, the cron path)');

        // Meanwhile a second process asks for the order lock with a 20 s wait.
        $waiter = Forker::spawn(function () use ($log): array {
            $w = $this->locks();
            $t0 = microtime(true);
            $got = $w->lockOrder(self::ORDER, 20);
            $at = microtime(true);
            file_put_contents($log, 'acquired');
            $paymentToo = $w->lockPayment(self::ORDER, self::PAY, 0);
            $paymentToo && $w->unlockPayment(self::ORDER, self::PAY);
            $got && $w->unlockOrder(self::ORDER);
            return ['got' => $got, 'waitedMs' => ($at - $t0) * 1000, 'at' => $at, 'paymentToo' => $paymentToo];
        });

        self::assertSame([
            'isOrderLocked' => true,
            'isPaymentLocked' => true,
            'lockOrder' => false,
            'lockPayment' => false,
            'lockOtherPayment' => true, // another payment of the same order is a different lock
        ], $this->otherProcess());

        self::assertTrue($m->unlockOrder(self::ORDER), 'inner order level');
        self::assertTrue($m->isOrderLocked(self::ORDER));
        self::assertSame(false, $this->otherProcess()['lockOrder'], 'one order level is still held');
        self::assertTrue($m->unlockPayment(self::ORDER, self::PAY));
        usleep(300_000);
        self::assertFileDoesNotExist($log, 'the waiting process is still blocked on the order lock');
        $releasedAt = microtime(true);
        self::assertTrue($m->unlockOrder(self::ORDER), 'outer order level');

        $w = $waiter->wait();
        self::assertTrue($w['got']);
        self::assertTrue($w['paymentToo']);
        self::assertGreaterThanOrEqual($releasedAt, $w['at'], 'the waiter got the lock only after the last unlockOrder()');
        self::assertLessThan(250, ($w['at'] - $releasedAt) * 1000, 'and was woken by it');
        self::assertFalse($m->unlockOrder(self::ORDER));
        self::assertFalse($m->isOrderLocked(self::ORDER));
        $this->recordFigures(['waiter_blocked_ms' => round($w['waitedMs'], 1), 'woken_after_release_ms' => round(($w['at'] - $releasedAt) * 1000, 2)]);
    }

    public function testPaymentLeasesAreAStackPerPair(): void
    {
        $m = $this->locks();
        self::assertFalse($m->unlockPayment(self::ORDER, self::PAY), 'nothing to unlock');
        self::assertTrue($m->lockPayment(self::ORDER, self::PAY, 0));
        self::assertTrue($m->lockPayment(self::ORDER, self::PAY, 0));
        self::assertTrue($m->lockPayment('1000007', '77' . self::PAY, 0), 'pairs never mix ("100000777"+"pay" vs "1000007"+"77pay")');
        self::assertTrue($m->unlockPayment(self::ORDER, self::PAY));
        self::assertSame(false, $this->otherProcess()['lockPayment']);
        self::assertTrue($m->unlockPayment(self::ORDER, self::PAY));
        self::assertSame(true, $this->otherProcess()['lockPayment']);
        self::assertFalse($m->unlockPayment(self::ORDER, self::PAY));
        self::assertTrue($m->isPaymentLocked('1000007', '77' . self::PAY));
        self::assertTrue($m->unlockPayment('1000007', '77' . self::PAY));
    }

    public function testAnotherProcessCannotUnlock(): void
    {
        $m = $this->locks();
        self::assertTrue($m->lockOrder(self::ORDER, 0));
        self::assertTrue($m->lockPayment(self::ORDER, self::PAY, 0));
        $r = Forker::run([fn () => [$this->locks()->unlockOrder(self::ORDER), $this->locks()->unlockPayment(self::ORDER, self::PAY)]])[0];
        self::assertSame([false, false], $r);
        self::assertTrue($m->isOrderLocked(self::ORDER));
        self::assertTrue($m->isPaymentLocked(self::ORDER, self::PAY));
        self::assertTrue($m->unlockPayment(self::ORDER, self::PAY));
        self::assertTrue($m->unlockOrder(self::ORDER));
    }

    public function testLockTimeoutIsSeconds(): void
    {
        $child = $this->holdPaymentInChild();
        $m = $this->locks();
        $t0 = microtime(true);
        self::assertFalse($m->lockPayment(self::ORDER, self::PAY, 1));
        $ms = self::msSince($t0);
        self::assertGreaterThanOrEqual(950, $ms);
        self::assertLessThan(2500, $ms);
        self::signal($this->tmp('release'));
        $child->wait();
    }

    public function testWaitForPaymentUnlockIsWokenNotPolled(): void
    {
        $child = $this->holdPaymentInChild(autoReleaseS: 1.0);
        $m = $this->locks();
        $t0 = microtime(true);
        // A 5 s polling interval would overshoot by seconds; it is ignored.
        self::assertTrue($m->waitForPaymentUnlock(self::ORDER, self::PAY, 5, 5000));
        $done = microtime(true);
        $released = $child->wait();
        self::assertGreaterThanOrEqual(900, ($done - $t0) * 1000);
        self::assertLessThan(250, ($done - $released) * 1000, 'returned right after the release');
        self::assertFalse($m->isPaymentLocked(self::ORDER, self::PAY), 'the wait does not keep the lock');
        $this->recordFigures(['wait_for_unlock_after_release_ms' => round(($done - $released) * 1000, 2)]);
    }

    public function testWaitForPaymentUnlockTimesOut(): void
    {
        $child = $this->holdPaymentInChild();
        $m = $this->locks();
        $t0 = microtime(true);
        self::assertFalse($m->waitForPaymentUnlock(self::ORDER, self::PAY, 1));
        $ms = self::msSince($t0);
        self::assertGreaterThanOrEqual(950, $ms);
        self::assertLessThan(2500, $ms);
        self::assertTrue($m->isPaymentLocked(self::ORDER, self::PAY), 'still held by the child');
        self::signal($this->tmp('release'));
        $child->wait();
    }

    public function testWaitForPaymentUnlockOnAFreeOrOwnLock(): void
    {
        $m = $this->locks();
        $t0 = microtime(true);
        self::assertTrue($m->waitForPaymentUnlock(self::ORDER, self::PAY, 5));
        self::assertLessThan(200, self::msSince($t0));

        self::assertTrue($m->lockPayment(self::ORDER, self::PAY, 0));
        $t0 = microtime(true);
        self::assertFalse($m->waitForPaymentUnlock(self::ORDER, self::PAY, 5), 'it would wait for itself');
        self::assertFalse($this->locks()->waitForPaymentUnlock(self::ORDER, self::PAY, 5), 'also through another object of this process');
        self::assertLessThan(200, self::msSince($t0));
        self::assertTrue($m->unlockPayment(self::ORDER, self::PAY));

        $lease = (new ProcessingLock($this->options()))->acquire(self::ORDER, self::PAY, 0);
        self::assertFalse($m->waitForPaymentUnlock(self::ORDER, self::PAY, 5), 'and when held through ProcessingLock directly');
        $lease->release();
    }

    public function testExecuteWithOrderAndPaymentLockNested(): void
    {
        $m = $this->locks();
        $result = $m->executeWithOrderLock(self::ORDER, function () use ($m) {
            return $m->executeWithPaymentLock(self::ORDER, self::PAY, function () use ($m) {
                return [
                    'args' => func_num_args(),
                    'order' => $m->isOrderLocked(self::ORDER),
                    'payment' => $m->isPaymentLocked(self::ORDER, self::PAY),
                    'orderAgain' => $m->executeWithOrderLock(self::ORDER, fn () => 'nested', 0),
                    'other' => $this->otherProcess(),
                ];
            });
        });
        self::assertSame(0, $result['args'], 'the callback is called without arguments, as MONEI does');
        self::assertTrue($result['order']);
        self::assertTrue($result['payment']);
        self::assertSame('nested', $result['orderAgain']);
        self::assertFalse($result['other']['lockOrder']);
        self::assertFalse($result['other']['lockPayment']);
        self::assertFalse($m->isOrderLocked(self::ORDER));
        self::assertFalse($m->isPaymentLocked(self::ORDER, self::PAY));
        // An internal function called without arguments works as a callback too,
        // and its own result comes back.
        self::assertSame(PHP_VERSION, $m->executeWithOrderLock(self::ORDER, 'phpversion'));
        self::assertSame(PHP_VERSION, $m->executeWithPaymentLock(self::ORDER, self::PAY, 'phpversion'));
    }

    public function testExecuteThrowsLocalizedExceptionWhenTheLockIsBusy(): void
    {
        $child = $this->holdPaymentInChild();
        $m = $this->locks();
        $ran = false;
        try {
            $m->executeWithPaymentLock(self::ORDER, self::PAY, function () use (&$ran) {
                $ran = true;
            }, 0);
            self::fail('no exception');
        } catch (LocalizedException $e) {
            self::assertSame('Unable to acquire payment lock for order ' . self::ORDER . ', payment ' . self::PAY, $e->getMessage());
            self::assertInstanceOf(LockTimeoutException::class, $e->getPrevious());
        }
        self::assertFalse($ran);
        self::signal($this->tmp('release'));
        $child->wait();

        self::assertTrue(Forker::run([fn () => $this->locks()->lockOrder(self::ORDER, 0)])[0]);
        // The child was killed holding the order lock: its lease (30 s) is still there.
        try {
            $m->executeWithOrderLock(self::ORDER, fn () => null, 0);
            self::fail('no exception');
        } catch (LocalizedException $e) {
            self::assertSame('Unable to acquire order lock for order ' . self::ORDER, $e->getMessage());
        }
    }

    public function testTheCallbacksExceptionsPassUnchangedAndTheLocksAreReleased(): void
    {
        $m = $this->locks();
        $mine = new \RuntimeException('payment API said no');
        try {
            $m->executeWithOrderLock(self::ORDER, fn () => $m->executeWithPaymentLock(self::ORDER, self::PAY, fn () => throw $mine));
            self::fail('no exception');
        } catch (\RuntimeException $e) {
            self::assertSame($mine, $e);
        }
        self::assertFalse($m->isOrderLocked(self::ORDER));
        self::assertFalse($m->isPaymentLocked(self::ORDER, self::PAY));

        // A LockTimeoutException thrown by the callback itself is not turned into "unable to acquire".
        $inner = new LockTimeoutException('from inside');
        try {
            $m->executeWithPaymentLock(self::ORDER, self::PAY, fn () => throw $inner);
            self::fail('no exception');
        } catch (LockTimeoutException $e) {
            self::assertSame($inner, $e);
        }
    }

    public function testTheOrderLockIsTheOneOrderProcessorUses(): void
    {
        $m = $this->locks();
        self::assertTrue($m->lockOrder(self::ORDER, 0));
        $app = $this->app(withShop: false);
        self::assertTrue($app->backend->orderLocks()->isLocked(self::ORDER));
        self::assertTrue($m->unlockOrder(self::ORDER));
        self::assertFalse($app->backend->orderLocks()->isLocked(self::ORDER));
    }
}
