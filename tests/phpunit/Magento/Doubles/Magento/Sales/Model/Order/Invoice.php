<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order;

use Magento\Sales\Model\Order;

/** Double of Magento's Invoice: an amount to capture; register() captures it through the order's payment. */
class Invoice
{
    public function __construct(private Order $order, private float $baseGrandTotal)
    {
    }

    public function getBaseGrandTotal()
    {
        return $this->baseGrandTotal;
    }

    /** @return Order */
    public function getOrder()
    {
        return $this->order;
    }

    /** @return $this */
    public function register()
    {
        $this->order->getPayment()->capture($this);
        return $this;
    }
}
