<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment\Operations;

use Magento\Sales\Api\Data\OrderPaymentInterface;
use Magento\Sales\Model\Order\Invoice;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of Magento's RegisterCaptureNotificationOperation: the gateway says
 * it captured $amount; Magento registers it: a new invoice, registered and
 * paid (pay() raises the paid amounts). Each registration is a row in the
 * gateway log (kind "notification"), so registrations are counted like captures.
 */
class RegisterCaptureNotificationOperation
{
    public function __construct(private Gateway $gateway)
    {
    }

    public function registerCaptureNotification(OrderPaymentInterface $payment, $amount, $skipFraudDetection = false)
    {
        $order = $payment->getOrder();
        $amount = (float) $amount;
        $txn = $this->gateway->capture((string) $order->getIncrementId(), (int) $payment->getId(), $amount, 'notification');
        $payment->setLastTransId($txn);
        $invoice = $order->prepareInvoice()->register();
        $order->addRelatedObject($invoice);
        $payment->setCreatedInvoice($invoice);
        if ($invoice->getState() === Invoice::STATE_OPEN) {
            $invoice->setTransactionId($txn);
            $invoice->pay();
            $payment->setData('base_amount_paid_online', (float) $payment->getData('base_amount_paid_online') + $amount);
        }
        return $payment;
    }
}
