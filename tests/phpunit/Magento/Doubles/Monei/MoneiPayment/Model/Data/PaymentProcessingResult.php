<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Model\Data;

use Monei\MoneiPayment\Api\Data\PaymentErrorCodeInterface;
use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;

/** Double of MONEI's PaymentProcessingResult (2.2.3): a success, or a failure with a message and code. */
class PaymentProcessingResult implements PaymentProcessingResultInterface
{
    public function __construct(
        private string $status,
        private string $orderId,
        private string $paymentId,
        private bool $successful,
        private ?string $errorMessage = null,
        private ?string $statusCode = null,
        private ?array $fullErrorResponse = null
    ) {
    }

    public static function createSuccess(string $status, string $orderId, string $paymentId): self
    {
        return new self($status, $orderId, $paymentId, true);
    }

    public static function createError(
        string $status,
        string $orderId,
        string $paymentId,
        string $errorMessage,
        ?string $statusCode = null,
        ?array $fullErrorResponse = null
    ): self {
        return new self($status, $orderId, $paymentId, false, $errorMessage, $statusCode ?? PaymentErrorCodeInterface::ERROR_UNKNOWN, $fullErrorResponse);
    }

    public function getStatus(): string
    {
        return $this->status;
    }

    public function getOrderId(): string
    {
        return $this->orderId;
    }

    public function getPaymentId(): string
    {
        return $this->paymentId;
    }

    public function isSuccessful(): bool
    {
        return $this->successful;
    }

    public function getErrorMessage(): ?string
    {
        return $this->errorMessage;
    }

    public function getStatusCode(): ?string
    {
        return $this->statusCode;
    }

    public function getFullErrorResponse(): ?array
    {
        return $this->fullErrorResponse;
    }

    public function getDisplayErrorMessage(): ?string
    {
        return $this->errorMessage === null ? null : 'MONEI Payment Error: ' . $this->errorMessage;
    }

    public function isSuccess(): bool
    {
        return $this->successful;
    }

    public function getMessage(): string
    {
        return $this->successful ? 'Payment processed successfully.' : ($this->errorMessage ?? 'Unknown error occurred.');
    }
}
