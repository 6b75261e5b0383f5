<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Api\Data;

/** Double of MONEI's PaymentErrorCodeInterface (2.2.3): the codes the doubles use. */
interface PaymentErrorCodeInterface
{
    public const ERROR_NOT_FOUND = 'not_found';
    public const ERROR_PROCESSING_FAILED = 'processing_failed';
    public const ERROR_EXCEPTION = 'exception';
    public const ERROR_UNKNOWN = 'unknown_error';
}
