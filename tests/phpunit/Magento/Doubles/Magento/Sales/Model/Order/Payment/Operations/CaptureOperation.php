<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment\Operations;

use Magento\Sales\Api\Data\OrderPaymentInterface;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of Magento's CaptureOperation: without an invoice, prepares,
 * registers and captures one (Invoice::capture() comes back here with it); with one, captures its amount at the gateway and marks it
 * paid (Invoice::capture() then calls pay(), which raises the paid amounts).
 */
class CaptureOperation
{
    public function __construct(private Gateway $gateway)
    {
    }

    public function capture(OrderPaymentInterface $payment, $invoice)
    {
        if ($invoice === null) {
            // Magento's AbstractOperation::invoice(): the gateway can capture, so the invoice is captured.
            $invoice = $payment->getOrder()->prepareInvoice();
            $invoice->register();
            $invoice->capture();
            $payment->getOrder()->addRelatedObject($invoice);
            $payment->setCreatedInvoice($invoice);
            return $payment;
        }
        if ($invoice->getIsPaid()) {
            throw new \Magento\Framework\Exception\LocalizedException(new \Magento\Framework\Phrase('The transaction cannot be captured yet.'));
        }
        $amount = (float) $invoice->getBaseGrandTotal();
        $txn = $this->gateway->capture((string) $payment->getOrder()->getIncrementId(), (int) $payment->getId(), $amount, 'capture');
        $payment->setLastTransId($txn);
        $invoice->setIsPaid(true);
        $payment->setData('base_amount_paid_online', (float) $payment->getData('base_amount_paid_online') + $amount);
        $invoice->setTransactionId($txn);
        return $payment;
    }
}
