<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Model\PaymentProcessor;

use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Api\Data\OrderInterface;
use Magento\Sales\Model\OrderFactory;
use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;
use Monei\MoneiPayment\Model\Data\PaymentDTO;
use Monei\MoneiPayment\Model\PaymentProcessor;

/**
 * Double of the generated PaymentProcessor\Interceptor: the plugins of
 * Monei_ConcurrencyMonei's di.xml (given directly) around process(),
 * isProcessing(), waitForProcessing() (declared on the interface) and
 * processPayment() (declared on the class).
 */
class Interceptor extends PaymentProcessor
{
    public function __construct(
        OrderFactory $orderFactory,
        ResourceConnection $resource,
        string $dsn,
        int $workMs,
        array $moneiApi,
        private object $interfacePlugin,
        private ?object $classPlugin = null,
    ) {
        parent::__construct($orderFactory, $resource, $dsn, $workMs, $moneiApi);
    }

    public function process(string $orderId, string $paymentId, array $paymentData): PaymentProcessingResultInterface
    {
        return $this->interfacePlugin->aroundProcess($this, fn (string $o, string $p, array $d) => parent::process($o, $p, $d), $orderId, $paymentId, $paymentData);
    }

    public function isProcessing(string $orderId, string $paymentId): bool
    {
        return $this->interfacePlugin->aroundIsProcessing($this, fn (string $o, string $p) => parent::isProcessing($o, $p), $orderId, $paymentId);
    }

    public function waitForProcessing(string $orderId, string $paymentId, int $timeout = 15): bool
    {
        return $this->interfacePlugin->aroundWaitForProcessing($this, fn (string $o, string $p, int $t = 15) => parent::waitForProcessing($o, $p, $t), $orderId, $paymentId, $timeout);
    }

    public function processPayment(OrderInterface $order, PaymentDTO $payment): bool
    {
        if ($this->classPlugin === null) {
            return parent::processPayment($order, $payment);
        }
        return $this->classPlugin->aroundProcessPayment($this, fn (OrderInterface $o, PaymentDTO $p) => parent::processPayment($o, $p), $order, $payment);
    }
}
