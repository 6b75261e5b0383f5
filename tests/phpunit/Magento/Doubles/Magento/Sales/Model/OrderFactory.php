<?php

declare(strict_types=1);

namespace Magento\Sales\Model;

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of the generated Magento\Sales\Model\OrderFactory: create() gives a
 * new, empty Order. The orders it makes get payments whose processor and sale
 * operation are the generated interceptors running the plugins of di.xml
 * (given here directly; none when null).
 */
class OrderFactory
{
    public function __construct(
        private ResourceConnection $resource,
        private ?Gateway $gateway = null,
        private ?object $processorPlugin = null,
        private ?object $salePlugin = null,
    ) {
    }

    public function create(array $data = [])
    {
        $order = new Order($this->resource, $this->gateway, $this->processorPlugin, $this->salePlugin);
        foreach ($data as $k => $v) {
            $order->setData($k, $v);
        }
        return $order;
    }
}
