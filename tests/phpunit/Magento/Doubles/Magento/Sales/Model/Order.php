<?php

declare(strict_types=1);

namespace Magento\Sales\Model;

use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Model\Order\Invoice;
use Magento\Sales\Model\Order\Payment;
use Magento\Sales\Model\Order\Payment\Operations\CaptureOperation;
use Magento\Sales\Model\Order\Payment\Operations\RegisterCaptureNotificationOperation;
use Magento\Sales\Model\Order\Payment\Operations\SaleOperation;
use Magento\Sales\Model\Order\Payment\Processor;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * Double of Magento's Order, stored in sales_order / sales_order_payment /
 * sales_invoice of the ResourceConnection double. Only what the modules and
 * the tests use, with Magento's signatures. As in Magento, the order is read
 * with a plain SELECT, its payment is the first of its payments, and save()
 * writes the order, its payment and the related objects (new invoices) in
 * one transaction.
 */
class Order implements \Magento\Sales\Api\Data\OrderInterface
{
    private array $data = [];
    private ?Payment $payment = null;
    /** @var list<object> */
    private array $related = [];

    public function __construct(
        private ResourceConnection $resource,
        private ?Gateway $gateway = null,
        private ?object $processorPlugin = null,
        private ?object $salePlugin = null,
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
        $this->related = [];
        if ($this->data !== []) {
            $p = $connection->fetchRow(
                'SELECT * FROM ' . $this->resource->getTableName('sales_order_payment') . ' WHERE parent_id = ? ORDER BY entity_id LIMIT 1',
                [(int) $this->data['entity_id']],
            );
            if (is_array($p)) {
                $gateway = $this->gateway ?? throw new \LogicException('no gateway configured in the Order double');
                $processor = new Processor\Interceptor(
                    new CaptureOperation($gateway),
                    new RegisterCaptureNotificationOperation($gateway),
                    $this->processorPlugin,
                );
                $this->payment = new Payment($p, $this, $processor, new SaleOperation\Interceptor($gateway, $this->salePlugin));
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

    public function setBaseTotalPaid($baseTotalPaid)
    {
        return $this->setData('base_total_paid', $baseTotalPaid);
    }

    /** @return Payment|null */
    public function getPayment()
    {
        return $this->payment;
    }

    /**
     * An invoice for what is not invoiced yet (Magento prepares it from the
     * item quantities left to invoice).
     *
     * @return Invoice
     */
    public function prepareInvoice($qtys = [])
    {
        return new Invoice($this, (float) $this->getBaseGrandTotal() - (float) ($this->data['base_total_invoiced'] ?? 0));
    }

    /** @return $this */
    public function addRelatedObject(\Magento\Framework\Model\AbstractModel $object)
    {
        $this->related[] = $object;
        return $this;
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

    /** Writes the order, its payment and its related objects. @return $this */
    public function save()
    {
        if ($this->getId() === null) {
            throw new \LogicException('the Order double only updates existing orders');
        }
        $connection = $this->resource->getConnection();
        $connection->beginTransaction();
        try {
            $connection->update(
                $this->resource->getTableName('sales_order'),
                array_diff_key($this->data, ['entity_id' => true]),
                ['entity_id = ?' => $this->getId()],
            );
            $this->payment?->save();
            foreach ($this->related as $object) {
                $object->save();
            }
            $this->related = [];
            $connection->commit();
        } catch (\Throwable $e) {
            $connection->rollBack();
            throw $e;
        }
        return $this;
    }

    /** @internal for the Payment and Invoice doubles */
    public function resource(): ResourceConnection
    {
        return $this->resource;
    }
}
