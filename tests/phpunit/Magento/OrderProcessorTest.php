<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Sales\Model\Order;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;

/**
 * OrderProcessor::processOrderById(): order lock, then load, then transaction,
 * callback, save, commit; rollback and rethrow on any exception; the lock
 * released in every case, against MariaDB.
 */
final class OrderProcessorTest extends MagentoTestCase
{
    private const INC = '000000042';

    protected function setUp(): void
    {
        parent::setUp();
        $this->shop()->addOrder(self::INC, 80.0, 'pending');
    }

    private function otherProcessGetsTheLock(): bool
    {
        return Forker::run([function (): bool {
            $locks = $this->app()->backend->orderLocks();
            return $locks->lock(self::INC, 0) && $locks->unlock(self::INC);
        }])[0];
    }

    public function testTheOrderIsLoadedAfterTheLockIsHeld(): void
    {
        $held = $this->tmp('held');
        // Another process holds the order lock; once we are queued for it, it
        // changes the order row and lets go.
        $child = Forker::spawn(function () use ($held): array {
            $locks = $this->app()->backend->orderLocks();
            if (!$locks->lock(self::INC, 0)) {
                throw new \RuntimeException('child could not lock');
            }
            self::signal($held);
            $waiters = self::waitUntil(fn () => $locks->inspect(self::INC)['waiters'] ?? 0, 10, 'a waiter');
            $this->shop()->setStatus(self::INC, 'changed_while_you_waited');
            $locks->unlock(self::INC);
            return ['waiters' => $waiters];
        });
        self::waitForFile($held);
        self::assertSame('pending', $this->shop()->order(self::INC)['status'], 'what a read before the lock would see');

        $app = $this->app();
        $seen = $app->orderProcessor->processOrderById(self::INC, function (Order $order, AdapterInterface $connection): string {
            $status = $order->getStatus();
            $order->setStatus('processing');
            return $status;
        });

        self::assertSame(['waiters' => 1], $child->wait());
        self::assertSame('changed_while_you_waited', $seen, 'the callback saw the row as it was when the lock was handed over');
        self::assertSame('processing', $this->shop()->order(self::INC)['status']);
    }

    public function testCommitsWhatTheCallbackChanged(): void
    {
        $app = $this->app();
        $result = $app->orderProcessor->processOrderById(self::INC, function (Order $order, AdapterInterface $connection) use ($app): string {
            self::assertTrue($app->backend->orderLocks()->isLocked(self::INC));
            self::assertFalse($this->otherProcessGetsTheLock());
            self::assertSame(self::INC, $order->getIncrementId());
            $order->setStatus('processing');
            $connection->query('INSERT INTO order_notes (increment_id, note) VALUES (?, ?)', [self::INC, 'invoiced']);
            return 'done';
        });
        self::assertSame('done', $result);
        self::assertSame('processing', $this->shop()->order(self::INC)['status']);
        self::assertSame(['invoiced'], $this->shop()->notes(self::INC));
        self::assertSame(1, $app->resource->getConnection()->commits);
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC));
        self::assertTrue($this->otherProcessGetsTheLock());
    }

    public function testRollsBackRethrowsAndReleasesOnException(): void
    {
        $app = $this->app();
        $mine = new \DomainException('capture declined');
        try {
            $app->orderProcessor->processOrderById(self::INC, function (Order $order, AdapterInterface $connection) use ($mine): void {
                $order->setStatus('processing');
                $order->save(); // already written inside the transaction
                $connection->query('INSERT INTO order_notes (increment_id, note) VALUES (?, ?)', [self::INC, 'half done']);
                throw $mine;
            });
            self::fail('no exception');
        } catch (\DomainException $e) {
            self::assertSame($mine, $e, 'the callback\'s exception, unchanged');
        }
        self::assertSame('pending', $this->shop()->order(self::INC)['status']);
        self::assertSame([], $this->shop()->notes(self::INC));
        self::assertSame(1, $app->resource->getConnection()->rollbacks);
        self::assertSame(0, $app->resource->getConnection()->getTransactionLevel());
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC));
        self::assertTrue($this->otherProcessGetsTheLock());
    }

    public function testAFailingSaveRollsBackToo(): void
    {
        $app = $this->app();
        try {
            $app->orderProcessor->processOrderById(self::INC, function (Order $order, AdapterInterface $connection): void {
                $connection->query('INSERT INTO order_notes (increment_id, note) VALUES (?, ?)', [self::INC, 'before save']);
                $order->setData('no_such_column', 1);
            });
            self::fail('no exception');
        } catch (\PDOException $e) {
            self::assertStringContainsString('no_such_column', $e->getMessage());
        }
        self::assertSame([], $this->shop()->notes(self::INC));
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC));
    }

    public function testUnknownOrder(): void
    {
        $app = $this->app();
        $ran = false;
        try {
            $app->orderProcessor->processOrderById('999999999', function () use (&$ran): void {
                $ran = true;
            });
            self::fail('no exception');
        } catch (NoSuchEntityException $e) {
            self::assertSame('No order with increment id "999999999".', $e->getMessage());
        }
        self::assertFalse($ran);
        self::assertSame([0, 1], [$app->resource->getConnection()->commits, $app->resource->getConnection()->rollbacks]);
        self::assertFalse($app->backend->orderLocks()->isLocked('999999999'));
    }

    public function testMariaDbUnreachableFailsAndReleasesTheLock(): void
    {
        $down = new \Magento\Framework\App\ResourceConnection('mysql:unix_socket=' . $this->tmp('no-such.sock') . ';dbname=shop');
        $app = new \Monei\Concurrency\Tests\Magento\Support\App($this->env(), $this->shop(), null, true, $down);
        $ran = false;
        try {
            $app->orderProcessor->processOrderById(self::INC, function () use (&$ran): void {
                $ran = true;
            });
            self::fail('no exception');
        } catch (\PDOException $e) {
            self::assertStringContainsString('No such file or directory', $e->getMessage());
        }
        self::assertFalse($ran);
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC));
        self::assertTrue($this->otherProcessGetsTheLock());
    }

    public function testLockWaitRunsOut(): void
    {
        [$child, $release] = $this->orderLockHeldElsewhere(self::INC);
        $app = $this->app(['lock_wait_ms' => 300]);
        $ran = false;
        $t0 = microtime(true);
        try {
            $app->orderProcessor->processOrderById(self::INC, function () use (&$ran): void {
                $ran = true;
            });
            self::fail('no exception');
        } catch (LockTimeoutException $e) {
            self::assertGreaterThanOrEqual(280, self::msSince($t0));
        }
        self::assertFalse($ran);
        self::signal($release);
        $child->wait();
    }

    public function testReentersAnOrderLockTheCallerAlreadyHolds(): void
    {
        $app = $this->app(['lock_wait_ms' => 0]);
        $locks = $app->backend->orderLocks();
        self::assertTrue($locks->lock(self::INC, 0));
        $r = $app->orderProcessor->processOrderById(self::INC, fn (Order $order) => $order->getBaseGrandTotal());
        self::assertEquals(80.0, $r);
        self::assertTrue($locks->isLocked(self::INC), 'the caller\'s level is still held');
        self::assertFalse($this->otherProcessGetsTheLock());
        self::assertTrue($locks->unlock(self::INC));
        self::assertTrue($this->otherProcessGetsTheLock());
    }
}
