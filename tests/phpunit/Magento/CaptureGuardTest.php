<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Invoice;
use Monei\Concurrency\Exception\AlreadyCapturedException;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;

/**
 * The double-capture guard (plugins on the payment processor and the sale
 * operation): order lock during the capture, and a capture of a captured
 * payment refused, judged from MariaDB inside the lock with a locking read.
 * Captures are counted in the gateway double's log.
 */
final class CaptureGuardTest extends MagentoTestCase
{
    private const INC = '000000100';
    private const TOTAL = 80.0;

    protected function setUp(): void
    {
        parent::setUp();
        $this->shop()->addOrder(self::INC, self::TOTAL);
    }

    /** Invoices and captures online, as the admin's "Capture Online" does. */
    private static function invoiceOnline(Order $order, ?float $amount = null): Invoice
    {
        $invoice = $amount === null ? $order->prepareInvoice() : new Invoice($order, $amount);
        $invoice->setRequestedCaptureCase(Invoice::CAPTURE_ONLINE);
        $invoice->register();
        $order->addRelatedObject($invoice);
        return $invoice;
    }

    /** Captures the order's payment inside OrderProcessor; returns 'captured' or 'refused'. */
    private function captureOnce(?float $invoiceAmount = null): string
    {
        return $this->app()->orderProcessor->processOrderById(self::INC, function (Order $order) use ($invoiceAmount): string {
            try {
                self::invoiceOnline($order, $invoiceAmount);
                return 'captured';
            } catch (AlreadyCapturedException $e) {
                return 'refused';
            }
        });
    }

    public function testASecondCaptureIsRefused(): void
    {
        self::assertSame('captured', $this->captureOnce());
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid']);
        self::assertEquals(self::TOTAL, $this->shop()->order(self::INC)['base_total_paid']);
        self::assertSame(1, $this->shop()->invoices(self::INC));

        try {
            $this->app()->orderProcessor->processOrderById(self::INC, fn (Order $order) => self::invoiceOnline($order, self::TOTAL));
            self::fail('no exception');
        } catch (AlreadyCapturedException $e) {
            self::assertSame('The payment of order ' . self::INC . ' has already been captured (80 of 80 paid).', $e->getMessage());
        }
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertSame(1, $this->shop()->invoices(self::INC));
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid']);
        self::assertFalse($this->app()->backend->orderLocks()->isLocked(self::INC));
    }

    public function testWithoutTheGuardTheDoublesCaptureTwice(): void
    {
        // The control: the doubles themselves do not refuse a second capture.
        $app = $this->app(guarded: false);
        for ($i = 0; $i < 2; $i++) {
            $app->orderProcessor->processOrderById(self::INC, fn (Order $order) => self::invoiceOnline($order, self::TOTAL));
        }
        self::assertSame(2, $this->shop()->gateway()->count(self::INC));
    }

    public function testAPaymentObjectLoadedBeforeTheCaptureIsStillRefused(): void
    {
        // Loaded here, before anyone captured: base_amount_paid is empty in memory.
        $stale = $this->app()->orderFactory->create()->loadByIncrementId(self::INC);
        self::assertEmpty($stale->getPayment()->getBaseAmountPaid());

        self::assertSame('captured', Forker::run([fn () => $this->captureOnce()])[0]);

        $this->expectException(AlreadyCapturedException::class);
        try {
            self::invoiceOnline($stale);
        } finally {
            self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        }
    }

    /**
     * REPEATABLE READ: the caller opened a transaction and read the payment
     * before taking any lock; another process captures and commits; then the
     * caller captures. A plain SELECT inside the guard would read the
     * caller's snapshot (nothing paid) and capture again; the locking read
     * sees the committed capture.
     */
    public function testACaptureCommittedAfterTheCallersSnapshotIsSeen(): void
    {
        $app = $this->app();
        $connection = $app->resource->getConnection('sales');
        $connection->beginTransaction();
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC); // the snapshot is taken here
        self::assertEmpty($order->getPayment()->getBaseAmountPaid());

        self::assertSame('captured', Forker::run([fn () => $this->captureOnce()])[0]);
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid'], 'committed');
        $snapshot = $connection->fetchOne('SELECT base_amount_paid FROM sales_order_payment');
        self::assertNull($snapshot, 'the caller\'s own reads still see its snapshot');

        try {
            self::invoiceOnline($order);
            self::fail('captured a second time');
        } catch (AlreadyCapturedException $e) {
            self::assertStringContainsString('has already been captured (80 of 80 paid)', $e->getMessage());
        } finally {
            $connection->rollBack();
        }
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        $this->recordFigures(['stale_snapshot_gateway_captures' => $this->shop()->gateway()->count(self::INC)]);
    }

    public function testPartialCapturesUpToTheTotal(): void
    {
        self::assertSame('captured', $this->captureOnce(30.0));
        self::assertSame('captured', $this->captureOnce(50.0));
        self::assertSame('refused', $this->captureOnce(10.0), 'nothing left');
        self::assertSame('refused', $this->captureOnce());
        self::assertSame(2, $this->shop()->gateway()->count(self::INC));
        self::assertSame(2, $this->shop()->invoices(self::INC));
        self::assertEquals(80.0, $this->shop()->payment(self::INC)['base_amount_paid']);

        $this->shop()->addOrder('000000101', 100.0);
        $r = $this->app()->orderProcessor->processOrderById('000000101', function (Order $order): array {
            self::invoiceOnline($order, 60.0);
            try {
                self::invoiceOnline($order, 60.0);
                return ['second' => 'captured'];
            } catch (AlreadyCapturedException $e) {
                return ['second' => 'refused'];
            }
        });
        // The first capture is not in the database before the commit; the
        // payment object's own amount paid (raised by pay()) counts too.
        self::assertSame(['second' => 'refused'], $r, 'an invoice for more than is left (60 + 60 of 100) is refused');
        self::assertSame(1, $this->shop()->gateway()->count('000000101'));
        self::assertEquals(60.0, $this->shop()->payment('000000101')['base_amount_paid']);
    }

    public function testInsideOrderProcessorTheLockGoesWithTheProcessor(): void
    {
        $app = $this->app();
        $during = $app->orderProcessor->processOrderById(self::INC, function (Order $order) use ($app): array {
            return $app->captureGuard->run($order->getPayment(), 10.0, function () use ($app): array {
                return [
                    'locked' => $app->backend->orderLocks()->isLocked(self::INC),
                    'other' => Forker::run([function (): bool {
                        $locks = $this->app()->backend->orderLocks();
                        return $locks->lock(self::INC, 0) && $locks->unlock(self::INC);
                    }])[0],
                ];
            });
        });
        self::assertSame(['locked' => true, 'other' => false], $during);
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC), 'released with the processor');
    }

    public function testOutsideOrderProcessorACaptureKeepsTheLockUntilTheRequestEnds(): void
    {
        $app = $this->app();
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
        self::invoiceOnline($order);
        $locks = $app->backend->orderLocks();
        self::assertTrue($locks->isLocked(self::INC), 'held until the caller\'s save and beyond');
        self::assertFalse(Forker::run([function (): bool {
            $locks = $this->app()->backend->orderLocks();
            return $locks->lock(self::INC, 0);
        }])[0]);
        $order->save();
        self::assertTrue($locks->unlock(self::INC), 'what the end of the request does');
        self::assertFalse($locks->isLocked(self::INC));

        // A refused capture does not keep it.
        try {
            self::invoiceOnline($app->orderFactory->create()->loadByIncrementId(self::INC), 1.0);
            self::fail('captured twice');
        } catch (AlreadyCapturedException $e) {
            self::assertFalse($locks->isLocked(self::INC));
        }
    }

    /**
     * Magento's admin invoice form captures (Invoice::register()) and saves
     * the invoice and order afterwards, outside any OrderProcessor. A webhook
     * arriving between the two must not capture again: it waits for the
     * order lock, which the admin request keeps until it ends.
     */
    public function testAWebhookBetweenAnAdminCaptureAndItsSaveIsNotCapturedAgain(): void
    {
        $captured = $this->tmp('captured');
        $save = $this->tmp('save');
        $admin = Forker::spawn(function () use ($captured, $save): string {
            $app = $this->app();
            $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
            self::invoiceOnline($order);
            self::signal($captured);
            self::waitForFile($save, 30);
            $order->save();
            $app->backend->orderLocks()->unlock(self::INC); // the end of the admin request
            return 'saved';
        });
        self::waitForFile($captured);
        $webhook = Forker::spawn(function (): string {
            $body = self::event(self::INC, 'pay_100', 'SUCCEEDED');
            $r = $this->app(['lock_wait_ms' => 20_000])->handler->handle($body, self::sign($body));
            return $r->statusCode . ' ' . $r->body;
        });
        usleep(500_000);
        self::assertTrue($webhook->running(), 'the webhook waits for the admin request');
        self::signal($save);
        self::assertSame('saved', $admin->wait(30));
        self::assertSame('200 processed: already captured', $webhook->wait(30));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertSame(1, $this->shop()->invoices(self::INC));
    }

    public function testAPaymentNotInTheDatabaseYetIsCaptured(): void
    {
        $app = $this->app();
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
        $new = new class ($order) {
            public function __construct(private Order $order)
            {
            }

            public function getId()
            {
                return null;
            }

            public function getOrder()
            {
                return $this->order;
            }
        };
        self::assertSame('ran', $app->captureGuard->run($new, 80.0, static fn () => 'ran'));
        $app->backend->orderLocks()->unlock(self::INC);
    }

    public function testABusyOrderLockFailsTheCaptureAfterTheWait(): void
    {
        [$child, $release] = $this->orderLockHeldElsewhere(self::INC);
        $app = $this->app(['lock_wait_ms' => 200]);
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
        try {
            self::invoiceOnline($order);
            self::fail('captured without the lock');
        } catch (\Monei\Concurrency\LockTimeoutException $e) {
            self::assertSame(0, $this->shop()->gateway()->count(self::INC));
        } finally {
            self::signal($release);
            $child->wait();
        }
    }
}
