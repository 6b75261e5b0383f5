<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order;

use Magento\Sales\Api\Data\OrderPaymentInterface;
use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Payment\Operations\SaleOperation;
use Magento\Sales\Model\Order\Payment\Processor;

/**
 * Double of Magento's Order\Payment, with Magento's order of events:
 * - capture($invoice) hands the invoice to the payment processor (capture
 *   operation: the gateway call); capture(null) too, and the capture
 *   operation prepares, registers and captures an invoice, whose capture
 *   comes back through capture($invoice);
 * - place() of an authorize-and-capture method runs the sale operation;
 * - registerCaptureNotification() goes to the processor's notification operation;
 * - base_amount_paid / amount_paid are raised only by pay(), which
 *   Invoice::pay() calls after the capture.
 */
class Payment implements OrderPaymentInterface
{
    private ?Invoice $createdInvoice = null;

    public function __construct(
        protected array $data,
        protected Order $order,
        private Processor $orderPaymentProcessor,
        private SaleOperation $saleOperation,
    ) {
    }

    public function getId()
    {
        return $this->data['entity_id'] ?? null;
    }

    /** @return Order */
    public function getOrder()
    {
        return $this->order;
    }

    public function getBaseAmountPaid()
    {
        return $this->data['base_amount_paid'] ?? null;
    }

    public function getAmountPaid()
    {
        return $this->data['amount_paid'] ?? null;
    }

    public function getLastTransId()
    {
        return $this->data['last_trans_id'] ?? null;
    }

    public function setLastTransId($id)
    {
        $this->data['last_trans_id'] = $id;
        return $this;
    }

    public function getData($key = '', $index = null)
    {
        return $key === '' ? $this->data : ($this->data[$key] ?? null);
    }

    /** @return $this */
    public function setData($key, $value = null)
    {
        $this->data[$key] = $value;
        return $this;
    }

    public function setCreatedInvoice($invoice)
    {
        $this->createdInvoice = $invoice;
        return $this;
    }

    public function getCreatedInvoice()
    {
        return $this->createdInvoice;
    }

    /** Both forms go to the processor; see CaptureOperation. @return $this */
    public function capture($invoice = null)
    {
        return $this->orderPaymentProcessor->capture($this, $invoice);
    }

    /** Authorize and capture at order placement (payment action authorize_capture). @return $this */
    public function place()
    {
        $this->saleOperation->execute($this);
        return $this;
    }

    /** @return $this */
    public function registerCaptureNotification($amount, $skipFraudDetection = false)
    {
        return $this->orderPaymentProcessor->registerCaptureNotification($this, $amount, $skipFraudDetection);
    }

    /** Called by Invoice::pay(): the invoice's amount is now paid. @return $this */
    public function pay($invoice)
    {
        $amount = (float) $invoice->getBaseGrandTotal();
        $this->data['base_amount_paid'] = (float) $this->getBaseAmountPaid() + $amount;
        $this->data['amount_paid'] = (float) $this->getAmountPaid() + $amount;
        return $this;
    }

    /** Called by Order::save(). */
    public function save()
    {
        $resource = $this->order->resource();
        $resource->getConnection()->update(
            $resource->getTableName('sales_order_payment'),
            array_diff_key($this->data, ['entity_id' => true]),
            ['entity_id = ?' => $this->getId()],
        );
        return $this;
    }
}
