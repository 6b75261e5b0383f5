<?php

declare(strict_types=1);

namespace Magento\Sales\Model;

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of the generated Magento\Sales\Model\OrderFactory: create() gives a
 * new, empty Order. The orders it makes hand out Payment interceptors that
 * run $capturePlugin (if any) around capture(), as the generated
 * Payment\Interceptor does for the plugins declared in di.xml.
 */
class OrderFactory
{
    public function __construct(
        private ResourceConnection $resource,
        private ?Gateway $gateway = null,
        private ?object $capturePlugin = null,
    ) {
    }

    public function create(array $data = [])
    {
        $order = new Order($this->resource, $this->gateway, $this->capturePlugin);
        foreach ($data as $k => $v) {
            $order->setData($k, $v);
        }
        return $order;
    }
}
