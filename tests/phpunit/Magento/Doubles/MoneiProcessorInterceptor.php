<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Doubles;

use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;
use Monei\MoneiPayment\Api\PaymentProcessorInterface;

/** What Magento generates for a plugin on PaymentProcessorInterface: each method through the plugin's around method. */
final class MoneiProcessorInterceptor implements PaymentProcessorInterface
{
    public function __construct(private PaymentProcessorInterface $subject, private object $plugin)
    {
    }

    public function process(string $orderId, string $paymentId, array $paymentData): PaymentProcessingResultInterface
    {
        return $this->plugin->aroundProcess($this, fn (string $o, string $p, array $d) => $this->subject->process($o, $p, $d), $orderId, $paymentId, $paymentData);
    }

    public function isProcessing(string $orderId, string $paymentId): bool
    {
        return $this->plugin->aroundIsProcessing($this, fn (string $o, string $p) => $this->subject->isProcessing($o, $p), $orderId, $paymentId);
    }

    public function waitForProcessing(string $orderId, string $paymentId, int $timeout = 15): bool
    {
        return $this->plugin->aroundWaitForProcessing($this, fn (string $o, string $p, int $t = 15) => $this->subject->waitForProcessing($o, $p, $t), $orderId, $paymentId, $timeout);
    }

    public function getPayment(string $paymentId): array
    {
        return $this->subject->getPayment($paymentId);
    }
}
