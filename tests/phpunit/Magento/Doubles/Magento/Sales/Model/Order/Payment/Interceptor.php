<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment;

use Magento\Sales\Model\Order;
use Magento\Sales\Model\Order\Payment;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of the generated Payment\Interceptor: runs the around-capture plugin
 * declared in di.xml (given here directly) with $proceed = the original method.
 */
class Interceptor extends Payment
{
    public function __construct(array $data, Order $order, ?Gateway $gateway = null, private ?object $capturePlugin = null)
    {
        parent::__construct($data, $order, $gateway);
    }

    public function capture($invoice = null)
    {
        if ($this->capturePlugin === null) {
            return parent::capture($invoice);
        }
        return $this->capturePlugin->aroundCapture($this, fn ($invoice = null) => parent::capture($invoice), $invoice);
    }
}
