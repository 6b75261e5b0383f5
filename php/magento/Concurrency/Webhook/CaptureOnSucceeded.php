<?php

declare(strict_types=1);

namespace Monei\Concurrency\Magento\Webhook;

use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Sales\Model\Order;
use Monei\Concurrency\Magento\Exception\AlreadyCapturedException;

/**
 * The default processor: captures the order's payment (Payment::capture(null),
 * which creates the invoice) when the payment SUCCEEDED, through the capture
 * plugin, which refuses a second capture. Other statuses change nothing.
 *
 * This is the pattern, not MONEI's business logic: for a payment that was
 * already captured at MONEI you may prefer Payment::registerCaptureNotification()
 * and order state changes for FAILED/CANCELED/EXPIRED; plug those in here.
 */
class CaptureOnSucceeded implements PaymentUpdateProcessorInterface
{
    public function process(Order $order, AdapterInterface $connection, array $event): string
    {
        $status = (string) ($event['status'] ?? '');
        if ($status !== 'SUCCEEDED') {
            return 'no action for ' . $status;
        }
        $payment = $order->getPayment();
        if ($payment === null || $payment === false) {
            return 'order has no payment';
        }
        try {
            $payment->capture(null);
        } catch (AlreadyCapturedException $e) {
            return 'already captured';
        }
        return 'captured';
    }
}
