<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

use Magento\Framework\App\DeploymentConfig;
use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Model\OrderFactory;
use Monei\Concurrency\Api\PaymentUpdateProcessorInterface;
use Monei\Concurrency\Model\Backend;
use Monei\Concurrency\Model\CaptureGuard;
use Monei\Concurrency\Model\Config;
use Monei\Concurrency\Model\Lock\RedisLockManager;
use Monei\Concurrency\Model\OrderFence;
use Monei\Concurrency\Model\OrderProcessor;
use Monei\Concurrency\Model\Webhook\CaptureOnSucceeded;
use Monei\Concurrency\Model\Webhook\Handler;
use Monei\Concurrency\Plugin\GuardPaymentProcessor;
use Monei\Concurrency\Plugin\GuardSaleOperation;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * The module's objects wired the way etc/di.xml wires them (one process's
 * object graph): build a new one in every forked child.
 */
final class App
{
    public readonly Config $config;
    public readonly Backend $backend;
    public readonly ResourceConnection $resource;
    public readonly Gateway $gateway;
    public readonly CaptureGuard $captureGuard;
    public readonly OrderFactory $orderFactory;
    public readonly OrderProcessor $orderProcessor;
    public readonly Handler $handler;
    public readonly RedisLockManager $lockManager;

    /** @param bool $guarded false: the sales doubles without the module's capture plugins */
    public function __construct(array $env, ?Shop $shop = null, ?PaymentUpdateProcessorInterface $processor = null, bool $guarded = true, ?ResourceConnection $resource = null)
    {
        $this->config = new Config(new DeploymentConfig([Config::ENV_KEY => $env], []));
        $this->backend = new Backend($this->config);
        $this->lockManager = new RedisLockManager($this->backend);
        if ($shop !== null) {
            $this->resource = $resource ?? $shop->resource();
            $this->gateway = $shop->gateway();
            $this->captureGuard = new CaptureGuard($this->backend, $this->resource);
            $this->orderFactory = new OrderFactory(
                $this->resource,
                $this->gateway,
                $guarded ? new GuardPaymentProcessor($this->captureGuard) : null,
                $guarded ? new GuardSaleOperation($this->captureGuard) : null,
            );
            $this->orderProcessor = new OrderProcessor($this->backend, $this->orderFactory, $this->resource, new OrderFence($this->resource));
            $this->handler = new Handler($this->backend, $this->orderProcessor, $processor ?? new CaptureOnSucceeded());
        }
    }
}
