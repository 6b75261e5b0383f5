<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Invoice;
use Monei\Concurrency\Exception\AlreadyCapturedException;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * Every way Magento captures, 16 processes at once on one payment, each
 * through OrderProcessor (order lock, transaction, save): an online invoice
 * capture (processor), Payment::capture(null) (the capture operation makes
 * and captures the invoice), an authorize-and-capture at placement (sale
 * operation), a gateway's capture notification (processor's notification
 * operation), and a mix of them. Exactly one capture and one invoice.
 */
final class CapturePathsTest extends MagentoTestCase
{
    private const INC = '000000700';
    private const TOTAL = 120.0;
    private const PATHS = ['invoice', 'capture', 'placement', 'notification'];

    protected function setUp(): void
    {
        parent::setUp();
        $this->shop()->addOrder(self::INC, self::TOTAL);
    }

    private static function capture(Order $order, string $path): void
    {
        match ($path) {
            'invoice' => (function () use ($order): void {
                $invoice = $order->prepareInvoice();
                $invoice->setRequestedCaptureCase(Invoice::CAPTURE_ONLINE);
                $invoice->register();
                $order->addRelatedObject($invoice);
            })(),
            'capture' => $order->getPayment()->capture(null),
            'placement' => $order->getPayment()->place(),
            'notification' => $order->getPayment()->registerCaptureNotification($order->getBaseGrandTotal()),
        };
    }

    /** @return array<string, array{string}> */
    public static function paths(): array
    {
        return ['invoice capture' => ['invoice'], 'Payment::capture(null)' => ['capture'],
            'authorize and capture at placement' => ['placement'], 'capture notification' => ['notification'],
            'a mix of them' => ['mix']];
    }

    /** @return array<string, int> outcome => count */
    private function race(string $path, bool $guarded = true): array
    {
        $go = $this->tmp('go');
        $children = [];
        for ($i = 0; $i < 16; $i++) {
            $children[] = Forker::spawn(function (int $i) use ($go, $path, $guarded): string {
                $app = $this->app(guarded: $guarded);
                self::waitForFile($go);
                $p = $path === 'mix' ? self::PATHS[$i % 4] : $path;
                return $app->orderProcessor->processOrderById(self::INC, function (Order $order) use ($p): string {
                    try {
                        self::capture($order, $p);
                        return 'captured';
                    } catch (AlreadyCapturedException $e) {
                        return 'refused';
                    }
                });
            }, $i);
        }
        self::signal($go);
        $counts = array_count_values(array_map(static fn ($c) => $c->wait(90), $children));
        ksort($counts);
        return $counts;
    }

    /**
     * @dataProvider paths
     */
    #[DataProvider('paths')]
    public function testSixteenConcurrentAttemptsCaptureOnce(string $path): void
    {
        self::assertSame(['captured' => 1, 'refused' => 15], $this->race($path));
        $figures = [
            'gateway_captures' => $this->shop()->gateway()->count(self::INC),
            'invoices' => $this->shop()->invoices(self::INC),
        ];
        self::assertSame(['gateway_captures' => 1, 'invoices' => 1], $figures);
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid']);
        self::assertEquals(self::TOTAL, $this->shop()->order(self::INC)['base_total_paid']);
        $this->recordFigures(['path' => $path, 'attempts' => 16] + $figures);
    }

    public function testWithoutTheGuardEveryAttemptCaptures(): void
    {
        // The control: the lock alone serialises the attempts, nothing refuses them.
        self::assertSame(['captured' => 16], $this->race('mix', guarded: false));
        self::assertSame(16, $this->shop()->gateway()->count(self::INC));
    }
}
