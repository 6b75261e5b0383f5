<?php

declare(strict_types=1);

namespace Monei\ConcurrencyMonei\Model;

/**
 * Carries MONEI's own failed answer (a failed PaymentProcessingResult, or
 * false from processPayment()) out of IdempotencyStore::once(): thrown, so
 * the claim is dropped and MONEI's retry processes the status again.
 */
final class FailedProcessing extends \RuntimeException
{
    public function __construct(public readonly mixed $result, string $message)
    {
        parent::__construct('MONEI processing failed: ' . $message);
    }
}
