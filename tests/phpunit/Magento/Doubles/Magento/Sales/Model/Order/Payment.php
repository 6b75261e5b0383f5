<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order;

use Magento\Sales\Model\Order;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of Magento's Order\Payment. capture() follows Magento's flow:
 * capture(null) prepares an invoice for what is left to pay and registers it,
 * and the invoice calls capture($invoice) on the order's payment (the
 * interceptor, so the plugins run again); capture($invoice) calls the
 * gateway and adds the amount to amount_paid / base_amount_paid (and the
 * order's total_paid), saved with the order.
 */
class Payment
{
    public function __construct(
        protected array $data,
        protected Order $order,
        protected ?Gateway $gateway = null,
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

    public function getData($key = '', $index = null)
    {
        return $key === '' ? $this->data : ($this->data[$key] ?? null);
    }

    /** @return $this */
    public function capture($invoice = null)
    {
        if ($invoice === null) {
            $left = (float) $this->order->getBaseGrandTotal() - (float) $this->getBaseAmountPaid();
            $invoice = new Invoice($this->order, $left);
            $invoice->register();
            return $this;
        }
        $amount = (float) $invoice->getBaseGrandTotal();
        if ($this->gateway === null) {
            throw new \LogicException('no gateway configured in the Payment double');
        }
        $txn = $this->gateway->capture((string) $this->order->getIncrementId(), (int) $this->getId(), $amount);
        $this->data['base_amount_paid'] = (float) $this->getBaseAmountPaid() + $amount;
        $this->data['amount_paid'] = (float) $this->getAmountPaid() + $amount;
        $this->data['last_trans_id'] = $txn;
        $this->order->setData('base_total_paid', (float) $this->order->getBaseTotalPaid() + $amount);
        return $this;
    }

    /** Called by Order::save(). */
    public function save()
    {
        $resource = $this->order->resource();
        $columns = array_diff(array_keys($this->data), ['entity_id']);
        $resource->getConnection()->query(
            'UPDATE ' . $resource->getTableName('sales_order_payment') . ' SET '
            . implode(', ', array_map(static fn ($c) => "$c = ?", $columns)) . ' WHERE entity_id = ?',
            [...array_map(fn ($c) => $this->data[$c], $columns), $this->getId()],
        );
        return $this;
    }
}
