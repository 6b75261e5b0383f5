<?php

declare(strict_types=1);

namespace Magento\Sales\Model;

use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Model\Order\Payment;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of Magento's Order, stored in the sales_order / sales_order_payment
 * tables of the ResourceConnection double. Only what the module and the
 * tests use, with Magento's signatures.
 */
class Order
{
    private array $data = [];
    private ?Payment $payment = null;

    public function __construct(
        private ResourceConnection $resource,
        private ?Gateway $gateway = null,
        private ?object $capturePlugin = null,
    ) {
    }

    /** @return $this */
    public function loadByIncrementId($incrementId)
    {
        $connection = $this->resource->getConnection();
        $row = $connection->fetchRow(
            'SELECT * FROM ' . $this->resource->getTableName('sales_order') . ' WHERE increment_id = ?',
            [(string) $incrementId],
        );
        $this->data = is_array($row) ? $row : [];
        $this->payment = null;
        if ($this->data !== []) {
            $p = $connection->fetchRow(
                'SELECT * FROM ' . $this->resource->getTableName('sales_order_payment') . ' WHERE parent_id = ?',
                [(int) $this->data['entity_id']],
            );
            if (is_array($p)) {
                $this->payment = new Payment\Interceptor($p, $this, $this->gateway, $this->capturePlugin);
            }
        }
        return $this;
    }

    public function getId()
    {
        return $this->data['entity_id'] ?? null;
    }

    public function getIncrementId()
    {
        return $this->data['increment_id'] ?? null;
    }

    public function getState()
    {
        return $this->data['state'] ?? null;
    }

    public function setState($state)
    {
        return $this->setData('state', $state);
    }

    public function getStatus()
    {
        return $this->data['status'] ?? null;
    }

    public function setStatus($status)
    {
        return $this->setData('status', $status);
    }

    public function getBaseGrandTotal()
    {
        return $this->data['base_grand_total'] ?? null;
    }

    public function getBaseTotalPaid()
    {
        return $this->data['base_total_paid'] ?? null;
    }

    /** @return Payment|null */
    public function getPayment()
    {
        return $this->payment;
    }

    public function getData($key = '', $index = null)
    {
        return $key === '' ? $this->data : ($this->data[$key] ?? null);
    }

    /** @return $this */
    public function setData($key, $value = null)
    {
        if (is_array($key)) {
            $this->data = $key;
        } else {
            $this->data[$key] = $value;
        }
        return $this;
    }

    /** Writes the order and its payment (Magento saves the payment with the order). @return $this */
    public function save()
    {
        if ($this->getId() === null) {
            throw new \LogicException('the Order double only updates existing orders');
        }
        $connection = $this->resource->getConnection();
        $connection->beginTransaction();
        try {
            $columns = array_diff(array_keys($this->data), ['entity_id']);
            $connection->query(
                'UPDATE ' . $this->resource->getTableName('sales_order') . ' SET '
                . implode(', ', array_map(static fn ($c) => "$c = ?", $columns)) . ' WHERE entity_id = ?',
                [...array_map(fn ($c) => $this->data[$c], $columns), $this->getId()],
            );
            $this->payment?->save();
            $connection->commit();
        } catch (\Throwable $e) {
            $connection->rollBack();
            throw $e;
        }
        return $this;
    }

    /** @internal for the Payment double */
    public function resource(): ResourceConnection
    {
        return $this->resource;
    }
}
