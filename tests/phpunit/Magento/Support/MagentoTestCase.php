<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

use Monei\Concurrency\Api\PaymentUpdateProcessorInterface;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Base of the Magento module tests: the test's own key prefix in env.php's
 * monei_concurrency array, a shop database of its own on the test MariaDB
 * (dropped after the test).
 */
abstract class MagentoTestCase extends RedisTestCase
{
    protected const SECRET = 'pk_test_webhook_secret';

    private ?Shop $shop = null;

    protected function tearDown(): void
    {
        $this->shop?->drop();
        $this->shop = null;
        parent::tearDown();
    }

    /** The `monei_concurrency` array of app/etc/env.php for this test. */
    protected function env(array $extra = []): array
    {
        return array_replace_recursive([
            'redis_url' => self::redisUrl(),
            'key_prefix' => $this->prefix,
            'webhook' => ['secret' => self::SECRET],
        ], $extra);
    }

    protected function shop(): Shop
    {
        return $this->shop ??= new Shop();
    }

    /** A new object graph for this process (call it again inside forked children). */
    protected function app(array $env = [], ?PaymentUpdateProcessorInterface $processor = null, bool $withShop = true, bool $guarded = true): App
    {
        return new App($this->env($env), $withShop ? $this->shop() : null, $processor, $guarded);
    }

    /** A MONEI-Signature header for $body. */
    /**
     * Another process that holds the order lock of $incrementId until the
     * returned file exists (or $holdS seconds pass); returns once it holds it.
     *
     * @return array{0: ForkedChild, 1: string} the process and its release file
     */
    protected function orderLockHeldElsewhere(string $incrementId, float $holdS = 10): array
    {
        $held = $this->tmp('held');
        $release = $this->tmp('release');
        $child = Forker::spawn(function () use ($incrementId, $held, $release, $holdS): void {
            $locks = $this->app()->backend->orderLocks();
            $locks->lock($incrementId, 0);
            self::signal($held);
            self::waitForFile($release, $holdS);
            $locks->unlock($incrementId);
        });
        self::waitForFile($held);
        return [$child, $release];
    }

    protected static function sign(string $body, string $secret = self::SECRET, ?int $t = null): string
    {
        $t ??= time();
        return "t=$t,v1=" . hash_hmac('sha256', "$t.$body", $secret);
    }

    /** MONEI's webhook body for a payment. */
    protected static function event(string $orderId, string $paymentId, string $status, int $amount = 10000): string
    {
        return (string) json_encode([
            'id' => $paymentId,
            'orderId' => $orderId,
            'status' => $status,
            'amount' => $amount,
            'currency' => 'EUR',
        ]);
    }
}
