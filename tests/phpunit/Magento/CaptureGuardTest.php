<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Invoice;
use Magento\Sales\Model\Order\Payment;
use Monei\Concurrency\Magento\Exception\AlreadyCapturedException;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;

/**
 * The plugin around Payment::capture(): order lock during the capture, and a
 * second capture of a captured payment refused, judged from the database
 * inside the lock. Captures are counted in the gateway double's SQLite log.
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

    /** Captures the order's payment inside OrderProcessor; returns 'captured' or 'refused'. */
    private function captureOnce(?float $invoiceAmount = null): string
    {
        return $this->app()->orderProcessor->processOrderById(self::INC, function (Order $order) use ($invoiceAmount): string {
            try {
                $order->getPayment()->capture($invoiceAmount === null ? null : new Invoice($order, $invoiceAmount));
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

        try {
            $this->app()->orderProcessor->processOrderById(self::INC, fn (Order $order) => $order->getPayment()->capture());
            self::fail('no exception');
        } catch (AlreadyCapturedException $e) {
            self::assertSame('The payment of order ' . self::INC . ' is already captured (80 of 80 paid).', $e->getMessage());
        }
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid']);
        self::assertFalse($this->app()->backend->orderLocks()->isLocked(self::INC));
    }

    public function testAPaymentObjectLoadedBeforeTheCaptureIsStillRefused(): void
    {
        // Loaded here, before anyone captured: base_amount_paid is 0 in memory.
        $stale = $this->app()->orderFactory->create()->loadByIncrementId(self::INC);
        self::assertEquals(0, $stale->getPayment()->getBaseAmountPaid());

        self::assertSame('captured', Forker::run([fn () => $this->captureOnce()])[0]);

        $this->expectException(AlreadyCapturedException::class);
        try {
            $stale->getPayment()->capture();
        } finally {
            self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        }
    }

    public function testPartialCapturesUpToTheTotal(): void
    {
        self::assertSame('captured', $this->captureOnce(30.0));
        self::assertSame('captured', $this->captureOnce(50.0));
        self::assertSame('refused', $this->captureOnce(10.0), 'nothing left');
        self::assertSame('refused', $this->captureOnce());
        self::assertSame(2, $this->shop()->gateway()->count(self::INC));
        self::assertEquals(80.0, $this->shop()->payment(self::INC)['base_amount_paid']);

        $this->shop()->addOrder('000000101', 100.0);
        $app = $this->app();
        $r = $app->orderProcessor->processOrderById('000000101', function (Order $order): array {
            $order->getPayment()->capture(new Invoice($order, 60.0));
            try {
                $order->getPayment()->capture(new Invoice($order, 60.0));
                return ['second' => 'captured'];
            } catch (AlreadyCapturedException $e) {
                return ['second' => 'refused'];
            }
        });
        // The first capture is not in the database before the commit; the
        // payment object's own amount paid counts too.
        self::assertSame(['second' => 'refused'], $r, 'an invoice for more than is left (60 + 60 of 100) is refused');
        self::assertSame(1, $this->shop()->gateway()->count('000000101'));
        self::assertEquals(60.0, $this->shop()->payment('000000101')['base_amount_paid']);
    }

    public function testTheOrderLockIsHeldDuringTheCaptureOnly(): void
    {
        $app = $this->app();
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
        $payment = $order->getPayment();
        $during = null;
        $result = $app->captureGuard->aroundCapture($payment, function ($invoice) use (&$during, $payment, $app): Payment {
            $during = [
                'invoice' => $invoice,
                'locked' => $app->backend->orderLocks()->isLocked(self::INC),
                'other' => Forker::run([function (): bool {
                    $locks = $this->app()->backend->orderLocks();
                    return $locks->lock(self::INC, 0) && $locks->unlock(self::INC);
                }])[0],
            ];
            return $payment;
        }, null);
        self::assertSame($payment, $result);
        self::assertSame(['invoice' => null, 'locked' => true, 'other' => false], $during);
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC));
    }

    public function testAPaymentNotInTheDatabaseYetIsCaptured(): void
    {
        $app = $this->app();
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
        $new = new Payment(['base_amount_paid' => 0, 'amount_paid' => 0], $order, $app->gateway);
        self::assertSame($new, $app->captureGuard->aroundCapture($new, fn ($invoice) => $new->capture(new Invoice($order, 80.0)), null));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testSixteenConcurrentCapturesCaptureOnce(): void
    {
        $go = $this->tmp('go');
        $children = [];
        for ($i = 0; $i < 16; $i++) {
            $children[] = Forker::spawn(function () use ($go): string {
                self::waitForFile($go);
                return $this->captureOnce();
            }, $i);
        }
        self::signal($go);
        $results = array_map(static fn ($c) => $c->wait(60), $children);
        $counts = array_count_values($results);
        ksort($counts);
        self::assertSame(['captured' => 1, 'refused' => 15], $counts);
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid']);
        $this->recordFigures(['concurrent_captures' => 16, 'gateway_captures' => $this->shop()->gateway()->count(self::INC)]);
    }
}
