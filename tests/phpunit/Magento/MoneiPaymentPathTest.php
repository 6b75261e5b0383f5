<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\LockLostException;
use Monei\Concurrency\Tests\Magento\Doubles\MoneiProcessorInterceptor;
use Monei\Concurrency\Tests\Magento\Support\App;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Magento\Support\MoneiCallback;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\ConcurrencyMonei\Model\LockManager;
use Monei\ConcurrencyMonei\Model\PaymentStatusOnce;
use Monei\ConcurrencyMonei\Plugin\ProcessPaymentDtoOnce;
use Monei\ConcurrencyMonei\Plugin\ProcessPaymentOnce;
use Monei\MoneiPayment\Api\PaymentProcessorInterface;
use Monei\MoneiPayment\Model\PaymentProcessor;

/**
 * MONEI's payment path with Monei_ConcurrencyMonei's plugin around
 * PaymentProcessorInterface: deliveries answered the way MONEI's Callback
 * answers them (200, 422 on a failed result, 500 on an exception), MONEI's
 * processing counted in monei_runs, captures in the gateway log. Real Redis,
 * real MariaDB, forked deliveries.
 */
final class MoneiPaymentPathTest extends MagentoTestCase
{
    private const INC = '000000800';
    private const PAY = 'pay_800';
    private const TOTAL = 45.0;

    protected function setUp(): void
    {
        parent::setUp();
        $this->shop()->addOrder(self::INC, self::TOTAL);
    }

    /**
     * MONEI's processor with the module's plugins, as Magento's generated
     * interceptor runs them, in this process; $inner: another processor
     * behind the interface plugin instead.
     *
     * @return PaymentProcessor|PaymentProcessorInterface
     */
    private function processor(array $env = [], int $workMs = 0, ?ResourceConnection $resource = null, ?PaymentProcessorInterface $inner = null, bool $cronPlugin = true): PaymentProcessorInterface
    {
        $app = new App($this->env($env), $this->shop(), null, true, $resource);
        $once = new PaymentStatusOnce($app->backend);
        $plugin = new ProcessPaymentOnce($app->backend, $once);
        if ($inner !== null) {
            return new MoneiProcessorInterceptor($inner, $plugin);
        }
        return new PaymentProcessor\Interceptor(
            $app->orderFactory,
            $app->resource,
            $this->shop()->dsn,
            $workMs,
            [self::PAY => self::payment('SUCCEEDED')],
            $plugin,
            $cronPlugin ? new ProcessPaymentDtoOnce($once) : null,
        );
    }

    /**
     * What MONEI's cron does for a pending order: the order loaded first, then
     * under the order lock (the drop-in LockManager's, in Redis)
     * processPaymentById() with the payment's current data from MONEI's API.
     */
    private function cron(PaymentProcessor $processor): bool
    {
        $app = new App($this->env(['lock_wait_ms' => 30_000]), $this->shop());
        $order = $app->orderFactory->create()->loadByIncrementId(self::INC);
        return (new LockManager($app->backend))->executeWithOrderLock(
            self::INC,
            static fn (): bool => $processor->processPaymentById($order, self::PAY),
            30,
        );
    }

    private static function payment(string $status, string $orderId = self::INC, string $paymentId = self::PAY): array
    {
        return ['id' => $paymentId, 'orderId' => $orderId, 'status' => $status, 'amount' => 4500, 'currency' => 'EUR'];
    }

    /** @return array<string, int> MONEI processing runs per status */
    private function runs(): array
    {
        $out = [];
        foreach ($this->shop()->pdo()->query('SELECT status, COUNT(*) AS n FROM monei_runs GROUP BY status') as $row) {
            $out[$row['status']] = (int) $row['n'];
        }
        ksort($out);
        return $out;
    }

    public function testDuplicateAndOutOfOrderDeliveriesRunEachStatusOnce(): void
    {
        // 4 copies of each status, shuffled, all at once (webhook, redirect, cron).
        $deliveries = [];
        foreach (['PENDING', 'AUTHORIZED', 'SUCCEEDED'] as $status) {
            array_push($deliveries, $status, $status, $status, $status);
        }
        mt_srand(18);
        shuffle($deliveries);
        $go = $this->tmp('go');
        $children = [];
        foreach ($deliveries as $i => $status) {
            $children[] = Forker::spawn(function () use ($go, $status): int {
                $processor = $this->processor(['lock_wait_ms' => 30_000, 'webhook' => ['duplicate_wait_ms' => 30_000]], 30);
                self::waitForFile($go);
                return MoneiCallback::answer($processor, self::payment($status));
            }, $i);
        }
        self::signal($go);
        $answers = array_count_values(array_map(static fn ($c) => $c->wait(90), $children));

        self::assertSame([200 => 12], $answers, 'every delivery answered as a success');
        $runs = $this->runs();
        self::assertSame(1, $runs['SUCCEEDED'] ?? 0, 'SUCCEEDED processed exactly once');
        self::assertLessThanOrEqual(1, max($runs), 'no status processed twice');
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertSame(1, $this->shop()->invoices(self::INC));
        self::assertEquals(self::TOTAL, $this->shop()->payment(self::INC)['base_amount_paid']);
        $processed = array_sum($runs);
        $this->recordFigures([
            'deliveries' => 12, 'runs' => $runs, 'answered_without_running' => 12 - $processed,
            'captures' => $this->shop()->gateway()->count(self::INC), 'invoices' => $this->shop()->invoices(self::INC),
        ]);

        // Afterwards, in order: a late AUTHORIZED is stale, a repeated SUCCEEDED a duplicate.
        $p = $this->processor();
        self::assertSame(200, MoneiCallback::answer($p, self::payment('AUTHORIZED')));
        self::assertSame(200, MoneiCallback::answer($p, self::payment('SUCCEEDED')));
        self::assertSame($runs, $this->runs(), 'neither ran MONEI\'s processing');
    }

    public function testAStatusThePaymentIsPastIsASuccessWithoutWork(): void
    {
        $p = $this->processor();
        self::assertSame(200, MoneiCallback::answer($p, self::payment('SUCCEEDED')));
        $result = $p->process(self::INC, self::PAY, self::payment('AUTHORIZED'));
        self::assertTrue($result->isSuccess());
        self::assertSame('SUCCEEDED', $result->getStatus(), 'the status the payment is at');
        self::assertSame(['SUCCEEDED' => 1], $this->runs());
    }

    public function testAFailedResultIs422AndNothingIsRecorded(): void
    {
        $p = $this->processor();
        // MONEI's own answer for an order it does not know (yet).
        $result = $p->process('000000999', 'pay_999', self::payment('SUCCEEDED', '000000999', 'pay_999'));
        self::assertFalse($result->isSuccess());
        self::assertSame('Order not found', $result->getMessage());
        self::assertSame(422, MoneiCallback::answer($p, self::payment('SUCCEEDED', '000000999', 'pay_999')));
        self::assertNull($this->app()->backend->idempotencyStore()->status(PaymentStatusOnce::idempotencyKey('pay_999', 'SUCCEEDED')));

        $this->shop()->addOrder('000000999', 10.0);
        self::assertSame(200, MoneiCallback::answer($p, self::payment('SUCCEEDED', '000000999', 'pay_999')), 'the retry processes it');
        self::assertSame(1, $this->shop()->gateway()->count('000000999'));
    }

    public function testABusyOrderLockIs422NeverASilentSuccess(): void
    {
        [$child, $release] = $this->orderLockHeldElsewhere(self::INC, 30);
        try {
            $p = $this->processor(['lock_wait_ms' => 200]);
            self::assertSame(422, MoneiCallback::answer($p, self::payment('SUCCEEDED')));
            self::assertSame([], $this->runs());
        } finally {
            self::signal($release);
            $child->wait();
        }
        self::assertSame(200, MoneiCallback::answer($this->processor(), self::payment('SUCCEEDED')), 'MONEI\'s retry');
        self::assertSame(['SUCCEEDED' => 1], $this->runs());
    }

    public function testRedisDownIs422(): void
    {
        $port = (static function (): int {
            $s = stream_socket_server('tcp://127.0.0.1:0');
            $name = stream_socket_get_name($s, false);
            fclose($s);
            return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
        })();
        $p = $this->processor(['redis_url' => "redis://:s3cret-pass@127.0.0.1:$port", 'connect_timeout_ms' => 200]);
        $result = $p->process(self::INC, self::PAY, self::payment('SUCCEEDED'));
        self::assertFalse($result->isSuccess());
        self::assertSame('lock backend unavailable', $result->getMessage());
        self::assertStringNotContainsString('s3cret', (string) json_encode([$result->getMessage(), $result->getErrorMessage()]));
        self::assertSame([], $this->runs(), 'MONEI\'s processing did not run');
        self::assertSame(0, $this->shop()->gateway()->count());
    }

    public function testMariaDbDownIsAFailureAndTheRetryProcesses(): void
    {
        $down = new ResourceConnection('mysql:unix_socket=' . $this->tmp('no-such.sock') . ';dbname=shop');
        // MONEI's process() turns the exception into its failed result: 422, retried.
        self::assertSame(422, MoneiCallback::answer($this->processor([], 0, $down), self::payment('SUCCEEDED')));
        self::assertNull($this->app()->backend->idempotencyStore()->status(PaymentStatusOnce::idempotencyKey(self::PAY, 'SUCCEEDED')));
        self::assertSame(200, MoneiCallback::answer($this->processor(), self::payment('SUCCEEDED')));
        self::assertSame(['SUCCEEDED' => 1], $this->runs());
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testTheCronDoesNotProcessAStatusTheWebhookProcessed(): void
    {
        $p = $this->processor();
        self::assertSame(200, MoneiCallback::answer($p, self::payment('SUCCEEDED')));
        self::assertTrue($this->cron($p), 'answered as processed');
        self::assertTrue($this->cron($this->processor()));
        self::assertSame(['SUCCEEDED' => 1], $this->runs());
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));

        // The control: without the plugin on processPayment() the cron runs
        // MONEI's processing again (only the capture guard stops a second capture).
        $this->cron($this->processor(cronPlugin: false));
        self::assertSame(['SUCCEEDED' => 2], $this->runs());
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testCronAndWebhooksAtOnceProcessOnce(): void
    {
        $go = $this->tmp('go');
        $children = [];
        for ($i = 0; $i < 12; $i++) {
            $children[] = Forker::spawn(function (int $i) use ($go): string {
                $p = $this->processor(['lock_wait_ms' => 30_000, 'webhook' => ['duplicate_wait_ms' => 30_000]], 30);
                self::waitForFile($go);
                return $i % 2 === 0
                    ? 'webhook ' . MoneiCallback::answer($p, self::payment('SUCCEEDED'))
                    : 'cron ' . ($this->cron($p) ? 'true' : 'false');
            }, $i);
        }
        self::signal($go);
        $answers = array_count_values(array_map(static fn ($c) => $c->wait(90), $children));
        ksort($answers);
        self::assertSame(['cron true' => 6, 'webhook 200' => 6], $answers);
        self::assertSame(['SUCCEEDED' => 1], $this->runs());
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertSame(1, $this->shop()->invoices(self::INC));
        $this->recordFigures(['webhook_deliveries' => 6, 'cron_runs' => 6, 'processed' => 1, 'captures' => 1]);
    }

    /** A processor behind the interface plugin whose processing throws $e. */
    private static function throwing(\Throwable $e): PaymentProcessorInterface
    {
        return new class ($e) implements PaymentProcessorInterface {
            public function __construct(private \Throwable $e)
            {
            }

            public function process(string $orderId, string $paymentId, array $paymentData): \Monei\MoneiPayment\Api\PaymentProcessingResultInterface
            {
                throw $this->e;
            }

            public function isProcessing(string $orderId, string $paymentId): bool
            {
                return false;
            }

            public function waitForProcessing(string $orderId, string $paymentId, int $timeout = 15): bool
            {
                return true;
            }

            public function getPayment(string $paymentId): array
            {
                return [];
            }
        };
    }

    public function testAnyConcurrencyFailureIsRetryable(): void
    {
        // e.g. a lease lost while MONEI's processing ran, or (newer extension
        // builds) an idempotency claim lost or a result that could not be
        // recorded: all ConcurrencyExceptions, all answered as failures.
        $result = $this->processor([], 0, null, self::throwing(new LockLostException('lease lost')))
            ->process(self::INC, self::PAY, self::payment('SUCCEEDED'));
        self::assertFalse($result->isSuccess());
        self::assertStringStartsWith('concurrency control failed: Monei\Concurrency\LockLostException', $result->getMessage());
        self::assertNull($this->app()->backend->idempotencyStore()->status(PaymentStatusOnce::idempotencyKey(self::PAY, 'SUCCEEDED')));
    }

    public function testAnExceptionEscapingMoneisProcessingIs500AndNotRecorded(): void
    {
        $p = $this->processor([], 0, null, self::throwing(new \RuntimeException('boom')));
        self::assertSame(500, MoneiCallback::answer($p, self::payment('SUCCEEDED')));
        self::assertNull($this->app()->backend->idempotencyStore()->status(PaymentStatusOnce::idempotencyKey(self::PAY, 'SUCCEEDED')));
        self::assertSame(200, MoneiCallback::answer($this->processor(), self::payment('SUCCEEDED')), 'the retry processes it');
        self::assertSame(['SUCCEEDED' => 1], $this->runs());
    }

    public function testIsProcessingAndWaitForProcessingFollowTheLock(): void
    {
        $p = $this->processor();
        self::assertFalse($p->isProcessing(self::INC, self::PAY));
        self::assertTrue($p->waitForProcessing(self::INC, self::PAY, 5));

        $held = $this->tmp('held');
        $child = Forker::spawn(function () use ($held): float {
            $locks = $this->app()->backend->orderLocks();
            $locks->lock(self::INC, 0);
            self::signal($held);
            usleep(700_000);
            $locks->unlock(self::INC);
            return microtime(true);
        });
        self::waitForFile($held);
        self::assertTrue($p->isProcessing(self::INC, self::PAY));
        self::assertFalse($p->waitForProcessing(self::INC, self::PAY, 0), 'no wait: still busy');
        self::assertTrue($p->waitForProcessing(self::INC, self::PAY, 5));
        $woken = microtime(true);
        $released = $child->wait();
        self::assertLessThan(150, ($woken - $released) * 1000, 'woken by the release, not a 200 ms poll');
        self::assertFalse($p->isProcessing(self::INC, self::PAY));
    }
}
