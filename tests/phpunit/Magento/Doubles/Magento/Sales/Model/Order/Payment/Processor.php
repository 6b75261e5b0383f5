<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment;

use Magento\Sales\Api\Data\OrderPaymentInterface;
use Magento\Sales\Model\Order\Payment\Operations\CaptureOperation;
use Magento\Sales\Model\Order\Payment\Operations\RegisterCaptureNotificationOperation;

/** Double of Magento's Order\Payment\Processor: hands each payment action to its operation. */
class Processor
{
    public function __construct(
        protected CaptureOperation $captureOperation,
        protected RegisterCaptureNotificationOperation $registerCaptureNotification,
    ) {
    }

    public function capture(OrderPaymentInterface $payment, $invoice)
    {
        return $this->captureOperation->capture($payment, $invoice);
    }

    public function registerCaptureNotification(OrderPaymentInterface $payment, $amount, $skipFraudDetection = false)
    {
        return $this->registerCaptureNotification->registerCaptureNotification($payment, $amount, $skipFraudDetection);
    }
}
