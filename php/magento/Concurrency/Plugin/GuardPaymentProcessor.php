<?php

declare(strict_types=1);

namespace Monei\Concurrency\Plugin;

use Magento\Sales\Model\Order\Payment\Processor;
use Monei\Concurrency\Model\CaptureGuard;

/**
 * Around Order\Payment\Processor, where Payment::capture($invoice) (invoice
 * captures, online and from capture(null)) and
 * Payment::registerCaptureNotification() (a gateway telling that money was
 * captured) both pass: the double-capture guard with the order lock.
 */
class GuardPaymentProcessor
{
    public function __construct(private CaptureGuard $guard)
    {
    }

    /**
     * @param \Magento\Sales\Api\Data\OrderPaymentInterface $payment
     * @param \Magento\Sales\Api\Data\InvoiceInterface|null $invoice
     * @return mixed
     */
    public function aroundCapture(Processor $subject, callable $proceed, $payment, $invoice)
    {
        if ($invoice === null) {
            // Creates an invoice whose capture comes back through here with it.
            return $proceed($payment, $invoice);
        }
        return $this->guard->run($payment, (float) $invoice->getBaseGrandTotal(), static fn () => $proceed($payment, $invoice));
    }

    /**
     * @param \Magento\Sales\Api\Data\OrderPaymentInterface $payment
     * @param string|float $amount
     * @param bool|int $skipFraudDetection
     * @return mixed
     */
    public function aroundRegisterCaptureNotification(Processor $subject, callable $proceed, $payment, $amount, $skipFraudDetection = false)
    {
        return $this->guard->run(
            $payment,
            (float) $amount,
            static fn () => $proceed($payment, $amount, $skipFraudDetection),
        );
    }
}
