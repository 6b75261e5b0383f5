<?php

declare(strict_types=1);

namespace Monei\ConcurrencyMonei\Model;

use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;

/**
 * Carries MONEI's own failed result out of IdempotencyStore::once(): thrown,
 * so the claim is dropped and MONEI's retry processes the status again.
 */
final class FailedProcessing extends \RuntimeException
{
    public function __construct(public readonly PaymentProcessingResultInterface $result)
    {
        parent::__construct('MONEI processing failed: ' . $result->getMessage());
    }
}
