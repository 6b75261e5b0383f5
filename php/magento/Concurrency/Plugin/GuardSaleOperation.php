<?php

declare(strict_types=1);

namespace Monei\Concurrency\Plugin;

use Magento\Sales\Model\Order\Payment\Operations\SaleOperation;
use Monei\Concurrency\Model\CaptureGuard;

/**
 * Around the sale operation: an authorize-and-capture at order placement
 * (Payment::place()) invoices and captures there, without passing
 * Payment::capture() or the processor. Refused when anything was captured.
 */
class GuardSaleOperation
{
    public function __construct(private CaptureGuard $guard)
    {
    }

    /**
     * @param \Magento\Sales\Api\Data\OrderPaymentInterface $payment
     * @return \Magento\Sales\Api\Data\OrderPaymentInterface
     */
    public function aroundExecute(SaleOperation $subject, callable $proceed, $payment)
    {
        return $this->guard->run($payment, null, static fn () => $proceed($payment));
    }
}
