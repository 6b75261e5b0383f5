<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Api;

/** Double of MONEI's PaymentProcessingResultInterface (2.2.3). */
interface PaymentProcessingResultInterface
{
    public function getStatus(): string;

    public function getOrderId(): string;

    public function getPaymentId(): string;

    public function isSuccessful(): bool;

    public function getErrorMessage(): ?string;

    public function getStatusCode(): ?string;

    public function getFullErrorResponse(): ?array;

    public function getDisplayErrorMessage(): ?string;

    public function isSuccess(): bool;

    public function getMessage(): string;
}
