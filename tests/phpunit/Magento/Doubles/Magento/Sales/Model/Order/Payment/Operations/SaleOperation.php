<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment\Operations;

use Magento\Sales\Api\Data\OrderPaymentInterface;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of Magento's SaleOperation (authorize and capture at placement):
 * prepares and registers an invoice, captures it at the gateway (Magento's
 * ProcessInvoiceOperation), pays it, and relates it to the order; it does not
 * pass Payment::capture() or the processor.
 */
class SaleOperation
{
    public function __construct(private Gateway $gateway)
    {
    }

    public function execute(OrderPaymentInterface $payment): OrderPaymentInterface
    {
        $order = $payment->getOrder();
        $invoice = $order->prepareInvoice();
        $invoice->register();
        $txn = $this->gateway->capture((string) $order->getIncrementId(), (int) $payment->getId(), (float) $invoice->getBaseGrandTotal(), 'sale');
        $payment->setLastTransId($txn);
        $invoice->setTransactionId($txn);
        $invoice->setIsPaid(true);
        if ($invoice->getIsPaid()) {
            $invoice->pay();
        }
        $order->addRelatedObject($invoice);
        $payment->setCreatedInvoice($invoice);
        return $payment;
    }
}
