<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment\Operations\SaleOperation;

use Magento\Sales\Api\Data\OrderPaymentInterface;
use Magento\Sales\Model\Order\Payment\Operations\SaleOperation;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/** Double of the generated SaleOperation\Interceptor: runs the around plugin of di.xml (given directly), if any. */
class Interceptor extends SaleOperation
{
    public function __construct(Gateway $gateway, private ?object $plugin = null)
    {
        parent::__construct($gateway);
    }

    public function execute(OrderPaymentInterface $payment): OrderPaymentInterface
    {
        if ($this->plugin === null) {
            return parent::execute($payment);
        }
        return $this->plugin->aroundExecute($this, fn ($payment) => parent::execute($payment), $payment);
    }
}
