<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Api;

/** Double of MONEI's PaymentProcessorInterface (2.2.3): where its webhook, redirect and cron process a payment. */
interface PaymentProcessorInterface
{
    public function process(string $orderId, string $paymentId, array $paymentData): PaymentProcessingResultInterface;

    public function isProcessing(string $orderId, string $paymentId): bool;

    public function waitForProcessing(string $orderId, string $paymentId, int $timeout = 15): bool;

    public function getPayment(string $paymentId): array;
}
