<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Webhook;

use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Invoice;
use Monei\Concurrency\Exception\AlreadyCapturedException;
use Monei\Concurrency\Api\PaymentUpdateProcessorInterface;

/**
 * The default processor: when the payment SUCCEEDED, invoices what is left
 * and captures it online (Invoice::register() with CAPTURE_ONLINE, through
 * the payment processor and the module's capture guard, which refuses a
 * second capture); the invoice is saved with the order. Other statuses
 * change nothing.
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
            $invoice = $order->prepareInvoice();
            $invoice->setRequestedCaptureCase(Invoice::CAPTURE_ONLINE);
            $invoice->register();
            $order->addRelatedObject($invoice);
        } catch (AlreadyCapturedException $e) {
            return 'already captured';
        }
        return 'captured';
    }
}
