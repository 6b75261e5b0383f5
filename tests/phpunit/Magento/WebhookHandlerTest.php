<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\Request\Http;
use Magento\Framework\Controller\Result\RawFactory;
use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Sales\Model\Order;
use Monei\Concurrency\Controller\Webhook\Index;
use Monei\Concurrency\Model\Webhook\CaptureOnSucceeded;
use Monei\Concurrency\Model\Webhook\Handler;
use Monei\Concurrency\Api\PaymentUpdateProcessorInterface;
use Monei\Concurrency\Model\Webhook\Response;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisServer;

/**
 * The webhook Handler's answers (403/400/404/409/200/503/500) and what they
 * leave behind, with real Redis, MariaDB and forked deliveries.
 */
final class WebhookHandlerTest extends MagentoTestCase
{
    private const INC = '000000500';
    private const PAY = 'pay_500';

    protected function setUp(): void
    {
        parent::setUp();
        $this->shop()->addOrder(self::INC, 25.0);
    }

    private function deliver(string $body, ?string $header = null, array $env = [], ?PaymentUpdateProcessorInterface $processor = null): Response
    {
        return $this->app($env, $processor)->handler->handle($body, $header ?? self::sign($body));
    }

    private static function assertResponse(int $code, string $bodyPrefix, Response $r): void
    {
        self::assertSame([$code, true], [$r->statusCode, str_starts_with($r->body, $bodyPrefix)], "got {$r->statusCode} \"{$r->body}\"");
    }

    public function testBadSignaturesAre403(): void
    {
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        self::assertResponse(403, 'invalid signature', $this->deliver($body, ''));
        self::assertResponse(403, 'invalid signature', $this->deliver($body, self::sign($body, 'another secret')));
        self::assertResponse(403, 'invalid signature', $this->deliver($body, self::sign($body . ' ')));
        self::assertResponse(403, 'invalid signature', $this->deliver($body, 'garbage'));
        self::assertResponse(403, 'invalid signature', $this->deliver('not even json', self::sign('other')));
        self::assertSame(0, $this->shop()->gateway()->count());
    }

    public function testSecretRotationAndTimestampTolerance(): void
    {
        $body = self::event(self::INC, self::PAY, 'PENDING');
        $env = ['webhook' => ['secret' => ['old secret', 'new secret']]];
        self::assertResponse(200, 'processed:', $this->deliver($body, self::sign($body, 'new secret'), $env));
        // An old timestamp: accepted by default (as MONEI's SDK), refused with a tolerance.
        $old = self::event(self::INC, self::PAY, 'AUTHORIZED');
        self::assertResponse(403, 'invalid signature', $this->deliver($old, self::sign($old, self::SECRET, time() - 3600), ['webhook' => ['tolerance_s' => 300]]));
        self::assertResponse(200, 'processed:', $this->deliver($old, self::sign($old, self::SECRET, time() - 3600)));
    }

    public function testNoSecretConfiguredIs500(): void
    {
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        self::assertResponse(500, 'webhook secret not configured', $this->deliver($body, null, ['webhook' => ['secret' => '']]));
    }

    public function testBodiesWithoutIdsAre400(): void
    {
        foreach ([
            'not json',
            '[1, 2]',
            '"a string"',
            json_encode(['orderId' => self::INC, 'status' => 'SUCCEEDED']),
            json_encode(['id' => self::PAY, 'status' => 'SUCCEEDED']),
            json_encode(['id' => self::PAY, 'orderId' => self::INC]),
            json_encode(['id' => '', 'orderId' => self::INC, 'status' => 'SUCCEEDED']),
            json_encode(['id' => ['x'], 'orderId' => self::INC, 'status' => 'SUCCEEDED']),
            json_encode(['id' => str_repeat('p', 256), 'orderId' => self::INC, 'status' => 'SUCCEEDED']),
        ] as $body) {
            self::assertResponse(400, 'the body', $this->deliver($body));
        }
        // An order id sent as a JSON number is taken as its decimal string.
        $this->shop()->addOrder('777', 10.0);
        self::assertResponse(200, 'processed: captured', $this->deliver((string) json_encode(['id' => 'pay_777', 'orderId' => 777, 'status' => 'SUCCEEDED'])));
        self::assertSame(1, $this->shop()->gateway()->count('777'));
    }

    public function testAnUnknownStatusIs400AndLeavesNoRecord(): void
    {
        $body = self::event(self::INC, self::PAY, 'TELEPORTED');
        self::assertResponse(400, 'unknown payment status "TELEPORTED"', $this->deliver($body));
        $app = $this->app();
        self::assertNull($app->backend->idempotencyStore()->status(Handler::idempotencyKey(self::PAY, 'TELEPORTED')));
        self::assertNull($app->backend->stateMachine()->current(self::PAY));
    }

    public function testProcessedThenDuplicate(): void
    {
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        self::assertResponse(200, 'processed: captured', $this->deliver($body));
        self::assertResponse(200, 'duplicate: processed: captured', $this->deliver($body));
        self::assertResponse(200, 'duplicate: payment pay_500 SUCCEEDED was already delivered with another body',
            $this->deliver(self::event(self::INC, self::PAY, 'SUCCEEDED', 9999)));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertEquals(25.0, $this->shop()->payment(self::INC)['base_amount_paid']);
        self::assertSame('completed', $this->app()->backend->idempotencyStore()->status(Handler::idempotencyKey(self::PAY, 'SUCCEEDED')));
    }

    public function testStatusesInOrderAndStaleOnes(): void
    {
        self::assertResponse(200, 'processed: no action for PENDING', $this->deliver(self::event(self::INC, self::PAY, 'PENDING')));
        self::assertResponse(200, 'processed: captured', $this->deliver(self::event(self::INC, self::PAY, 'SUCCEEDED')));
        // AUTHORIZED arrives late: SUCCEEDED is already past it.
        self::assertResponse(200, 'stale: payment pay_500 is SUCCEEDED, AUTHORIZED ignored', $this->deliver(self::event(self::INC, self::PAY, 'AUTHORIZED')));
        self::assertResponse(200, 'stale:', $this->deliver(self::event(self::INC, self::PAY, 'FAILED')));
        self::assertResponse(200, 'processed: no action for REFUNDED', $this->deliver(self::event(self::INC, self::PAY, 'REFUNDED')));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertSame('REFUNDED', $this->app()->backend->stateMachine()->current(self::PAY));
    }

    public function testTheSameCallbackInProgressElsewhereIs409(): void
    {
        $inside = $this->tmp('inside');
        $release = $this->tmp('release');
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        $child = Forker::spawn(function () use ($body, $inside, $release): array {
            $slow = new class ($inside, $release) extends CaptureOnSucceeded {
                public function __construct(private string $inside, private string $release)
                {
                }

                public function process(Order $order, AdapterInterface $connection, array $event): string
                {
                    file_put_contents($this->inside, '1');
                    $until = microtime(true) + 20;
                    while (!is_file($this->release) && microtime(true) < $until) {
                        usleep(1000);
                    }
                    return parent::process($order, $connection, $event);
                }
            };
            $r = $this->deliver($body, null, [], $slow);
            return [$r->statusCode, $r->body];
        });
        self::waitForFile($inside);
        self::assertResponse(409, 'payment pay_500 SUCCEEDED is being processed by another request', $this->deliver($body, null, ['webhook' => ['duplicate_wait_ms' => 0]]));
        self::assertResponse(409, '', $this->deliver($body, null, ['webhook' => ['duplicate_wait_ms' => 300]]));
        $otherBody = self::event(self::INC, self::PAY, 'SUCCEEDED', 1);
        self::assertResponse(409, 'payment pay_500 SUCCEEDED is being processed', $this->deliver($otherBody, null, ['webhook' => ['duplicate_wait_ms' => 0]]), 'same key, other body, first still running');
        self::signal($release);
        self::assertSame([200, 'processed: captured'], $child->wait());
        self::assertResponse(200, 'duplicate: processed: captured', $this->deliver($body));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testADuplicateWaitsForTheFirstAndGetsItsAnswer(): void
    {
        $inside = $this->tmp('inside');
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        $child = Forker::spawn(function () use ($body, $inside): int {
            $slow = new class ($inside) extends CaptureOnSucceeded {
                public function __construct(private string $inside)
                {
                }

                public function process(Order $order, AdapterInterface $connection, array $event): string
                {
                    file_put_contents($this->inside, '1');
                    usleep(500_000);
                    return parent::process($order, $connection, $event);
                }
            };
            return $this->deliver($body, null, [], $slow)->statusCode;
        });
        self::waitForFile($inside);
        self::assertResponse(200, 'duplicate: processed: captured', $this->deliver($body, null, ['webhook' => ['duplicate_wait_ms' => 10000]]));
        self::assertSame(200, $child->wait());
    }

    public function testABusyOrderLockIs409AndTheRetryProcesses(): void
    {
        [$child, $release] = $this->orderLockHeldElsewhere(self::INC);
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        self::assertResponse(409, 'order 000000500 is locked by another request', $this->deliver($body, null, ['lock_wait_ms' => 200]));
        self::signal($release);
        $child->wait();
        self::assertResponse(200, 'processed: captured', $this->deliver($body), 'the claim was dropped, so the retry runs');
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testAnUnknownOrderIs404UntilItExists(): void
    {
        $body = self::event('000000501', 'pay_501', 'SUCCEEDED');
        self::assertResponse(404, 'no order 000000501', $this->deliver($body));
        $this->shop()->addOrder('000000501', 10.0);
        self::assertResponse(200, 'processed: captured', $this->deliver($body));
    }

    public function testRedisUnreachableIs503(): void
    {
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        $r = $this->deliver($body, null, ['redis_url' => 'redis://127.0.0.1:' . RedisServer::freePort(), 'connect_timeout_ms' => 200]);
        self::assertResponse(503, 'lock backend unavailable', $r);
        self::assertSame(0, $this->shop()->gateway()->count());
    }

    public function testMariaDbUnreachableIs500AndTheRetryProcesses(): void
    {
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        $down = new \Magento\Framework\App\ResourceConnection('mysql:unix_socket=' . $this->tmp('no-such.sock') . ';dbname=shop');
        $app = new \Monei\Concurrency\Tests\Magento\Support\App($this->env(), $this->shop(), null, true, $down);
        self::assertResponse(500, 'processing failed: PDOException', $app->handler->handle($body, self::sign($body)));
        self::assertSame(0, $this->shop()->gateway()->count());
        self::assertResponse(200, 'processed: captured', $this->deliver($body));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testAFailureIs500RollsBackAndTheRetryProcessesIt(): void
    {
        $failing = new class implements PaymentUpdateProcessorInterface {
            public function process(Order $order, AdapterInterface $connection, array $event): string
            {
                $order->setStatus('half_done');
                $connection->query('INSERT INTO order_notes (increment_id, note) VALUES (?, ?)', [$order->getIncrementId(), 'half done']);
                throw new \RuntimeException('database went away');
            }
        };
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        self::assertResponse(500, 'processing failed: RuntimeException', $this->deliver($body, null, [], $failing));
        self::assertSame('pending', $this->shop()->order(self::INC)['status']);
        self::assertSame([], $this->shop()->notes(self::INC));
        $app = $this->app();
        self::assertNull($app->backend->idempotencyStore()->status(Handler::idempotencyKey(self::PAY, 'SUCCEEDED')), 'claim dropped');
        self::assertSame('SUCCEEDED', $app->backend->stateMachine()->current(self::PAY), 'the state machine had advanced');
        self::assertFalse($app->backend->orderLocks()->isLocked(self::INC));
        // MONEI's retry: the status is current but was never completed, so it runs again.
        self::assertResponse(200, 'processed: captured', $this->deliver($body));
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
    }

    public function testSixteenConcurrentDuplicateWebhooksCaptureOncePerPayment(): void
    {
        $orders = ['000000601' => 'pay_601', '000000602' => 'pay_602', '000000603' => 'pay_603'];
        foreach (array_keys($orders) as $inc) {
            $this->shop()->addOrder($inc, 42.5);
        }
        $go = $this->tmp('go');
        $children = [];
        for ($i = 0; $i < 16; $i++) {
            $children[] = Forker::spawn(function (int $i) use ($orders, $go): array {
                $deliveries = [];
                foreach ($orders as $inc => $pay) {
                    $deliveries[] = self::event($inc, $pay, 'SUCCEEDED');
                }
                mt_srand($i);
                shuffle($deliveries);
                $app = $this->app(['webhook' => ['duplicate_wait_ms' => 30000]]);
                self::waitForFile($go);
                $out = [];
                foreach ($deliveries as $body) {
                    $r = $app->handler->handle($body, self::sign($body));
                    $out[] = $r->statusCode . ' ' . preg_replace('/^(duplicate: )?processed: .*/', '$1processed', $r->body);
                }
                return $out;
            }, $i);
        }
        self::signal($go);
        $answers = array_count_values(array_merge(...array_map(static fn ($c) => $c->wait(90), $children)));
        ksort($answers);
        self::assertSame(['200 duplicate: processed' => 45, '200 processed' => 3], $answers);
        self::assertSame(['000000601' => 1, '000000602' => 1, '000000603' => 1], $this->shop()->gateway()->capturesPerOrder());
        foreach (array_keys($orders) as $inc) {
            self::assertEquals(42.5, $this->shop()->payment($inc)['base_amount_paid']);
        }
        $this->recordFigures(['deliveries' => 48, 'captures_per_payment' => $this->shop()->gateway()->capturesPerOrder()]);
    }

    public function testSixteenProcessesWithStatusesOutOfOrderCaptureOnce(): void
    {
        $go = $this->tmp('go');
        $children = [];
        for ($i = 0; $i < 16; $i++) {
            $children[] = Forker::spawn(function (int $i) use ($go): array {
                $deliveries = array_map(fn ($s) => self::event(self::INC, self::PAY, $s), ['PENDING', 'AUTHORIZED', 'SUCCEEDED']);
                mt_srand(1000 + $i);
                shuffle($deliveries);
                $app = $this->app(['webhook' => ['duplicate_wait_ms' => 30000]]);
                self::waitForFile($go);
                return array_map(fn ($b) => $app->handler->handle($b, self::sign($b))->statusCode, $deliveries);
            }, $i);
        }
        self::signal($go);
        $codes = array_count_values(array_merge(...array_map(static fn ($c) => $c->wait(90), $children)));
        self::assertSame([200 => 48], $codes);
        self::assertSame(1, $this->shop()->gateway()->count(self::INC));
        self::assertSame('SUCCEEDED', $this->app()->backend->stateMachine()->current(self::PAY));
    }

    public function testTheControllerCopiesTheHandlersAnswer(): void
    {
        $app = $this->app();
        $body = self::event(self::INC, self::PAY, 'SUCCEEDED');
        $controller = new Index(new Http($body, ['monei-signature' => self::sign($body)]), new RawFactory(), $app->handler);
        $result = $controller->execute();
        self::assertSame(200, $result->getHttpResponseCode());
        self::assertSame('processed: captured', $result->getContents());
        self::assertSame('text/plain; charset=utf-8', $result->getHeaders()['Content-Type']);

        $forged = (new Index(new Http($body, ['MONEI-Signature' => self::sign($body, 'x')]), new RawFactory(), $app->handler))->execute();
        self::assertSame(403, $forged->getHttpResponseCode());
        $unsigned = (new Index(new Http($body), new RawFactory(), $app->handler))->execute();
        self::assertSame(403, $unsigned->getHttpResponseCode());

        $request = new Http($body);
        self::assertNull($controller->createCsrfValidationException($request));
        self::assertTrue($controller->validateForCsrf($request));
    }
}
