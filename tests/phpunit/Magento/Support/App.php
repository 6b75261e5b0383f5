<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

use Magento\Framework\App\DeploymentConfig;
use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Model\OrderFactory;
use Monei\Concurrency\Magento\Backend;
use Monei\Concurrency\Magento\Config;
use Monei\Concurrency\Magento\Lock\RedisLockManager;
use Monei\Concurrency\Magento\OrderProcessor;
use Monei\Concurrency\Magento\Plugin\CaptureGuard;
use Monei\Concurrency\Magento\Webhook\CaptureOnSucceeded;
use Monei\Concurrency\Magento\Webhook\Handler;
use Monei\Concurrency\Magento\Webhook\PaymentUpdateProcessorInterface;
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

    public function __construct(array $env, ?Shop $shop = null, ?PaymentUpdateProcessorInterface $processor = null)
    {
        $this->config = new Config(new DeploymentConfig([Config::ENV_KEY => $env]));
        $this->backend = new Backend($this->config);
        $this->lockManager = new RedisLockManager($this->backend);
        if ($shop !== null) {
            $this->resource = $shop->resource();
            $this->gateway = $shop->gateway();
            $this->captureGuard = new CaptureGuard($this->backend, $this->resource);
            $this->orderFactory = new OrderFactory($this->resource, $this->gateway, $this->captureGuard);
            $this->orderProcessor = new OrderProcessor($this->backend, $this->orderFactory, $this->resource);
            $this->handler = new Handler($this->backend, $this->orderProcessor, $processor ?? new CaptureOnSucceeded());
        }
    }
}
