<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

use Monei\MoneiPayment\Api\PaymentProcessorInterface;

/**
 * The HTTP answers of MONEI's Controller/Payment/Callback (2.2.3) for a
 * delivery whose signature it verified: 400 without payment or order id,
 * 422 for a failed result (MONEI retries), 500 for an exception, 200 otherwise.
 */
final class MoneiCallback
{
    public static function answer(PaymentProcessorInterface $processor, array $payment): int
    {
        if (empty($payment['id']) || empty($payment['orderId'])) {
            return 400;
        }
        try {
            $result = $processor->process((string) $payment['orderId'], (string) $payment['id'], $payment);
        } catch (\Exception $e) {
            return 500;
        }
        return $result->isSuccess() ? 200 : 422;
    }
}
