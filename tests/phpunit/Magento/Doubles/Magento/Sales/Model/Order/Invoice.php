<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order;

use Magento\Framework\Model\AbstractModel;
use Magento\Sales\Api\Data\InvoiceInterface;
use Magento\Sales\Model\Order;

/**
 * Double of Magento's Invoice, with Magento's order of events: register()
 * adds the amount to the order's invoiced total and, for an online capture
 * case, calls capture(), which captures through the order's payment and then
 * pay() if the capture left the invoice paid; pay() raises the payment's and
 * the order's paid amounts. Saved (inserted) with the order, as a related object.
 */
class Invoice extends AbstractModel implements InvoiceInterface
{
    public const STATE_OPEN = 1;
    public const STATE_PAID = 2;
    public const CAPTURE_ONLINE = 'online';
    public const CAPTURE_OFFLINE = 'offline';
    public const NOT_CAPTURE = 'not_capture';

    private ?int $id = null;
    private int $state = self::STATE_OPEN;
    private bool $isPaid = false;
    private bool $wasPayCalled = false;
    private ?string $requestedCaptureCase = null;
    private ?string $transactionId = null;

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

    public function getState()
    {
        return $this->state;
    }

    public function setRequestedCaptureCase($captureCase)
    {
        $this->requestedCaptureCase = $captureCase;
        return $this;
    }

    public function getRequestedCaptureCase()
    {
        return $this->requestedCaptureCase;
    }

    public function getIsPaid()
    {
        return $this->isPaid;
    }

    public function setIsPaid($isPaid)
    {
        $this->isPaid = (bool) $isPaid;
        return $this;
    }

    public function setTransactionId($transactionId)
    {
        $this->transactionId = $transactionId;
        return $this;
    }

    public function getTransactionId()
    {
        return $this->transactionId;
    }

    public function wasPayCalled()
    {
        return $this->wasPayCalled;
    }

    /** @return $this */
    public function register()
    {
        $this->order->setData('base_total_invoiced', (float) $this->order->getData('base_total_invoiced') + $this->baseGrandTotal);
        if ($this->requestedCaptureCase === self::CAPTURE_ONLINE) {
            $this->capture();
        } elseif ($this->requestedCaptureCase === self::CAPTURE_OFFLINE) {
            $this->pay();
        }
        return $this;
    }

    /** @return $this */
    public function capture()
    {
        $this->order->getPayment()->capture($this);
        if ($this->getIsPaid()) {
            $this->pay();
        }
        return $this;
    }

    /** @return $this */
    public function pay()
    {
        if ($this->wasPayCalled) {
            return $this;
        }
        $this->wasPayCalled = true;
        $this->state = self::STATE_PAID;
        $this->order->getPayment()->pay($this);
        $this->order->setBaseTotalPaid((float) $this->order->getBaseTotalPaid() + $this->baseGrandTotal);
        return $this;
    }

    /** Inserts the invoice (once); called by Order::save() for related objects. */
    public function save()
    {
        if ($this->id !== null) {
            return $this;
        }
        $resource = $this->order->resource();
        $connection = $resource->getConnection();
        $connection->insert($resource->getTableName('sales_invoice'), [
            'order_id' => $this->order->getId(),
            'state' => $this->state,
            'base_grand_total' => $this->baseGrandTotal,
            'transaction_id' => $this->transactionId,
        ]);
        $this->id = (int) $connection->lastInsertId();
        return $this;
    }
}
