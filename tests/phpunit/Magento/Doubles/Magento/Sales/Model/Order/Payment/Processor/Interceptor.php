<?php

declare(strict_types=1);

namespace Magento\Sales\Model\Order\Payment\Processor;

use Magento\Sales\Model\Order\Payment\Operations\CaptureOperation;
use Magento\Sales\Model\Order\Payment\Operations\RegisterCaptureNotificationOperation;
use Magento\Sales\Model\Order\Payment\Processor;

/** Double of the generated Processor\Interceptor: runs the around plugin of di.xml (given directly), if any. */
class Interceptor extends Processor
{
    public function __construct(
        CaptureOperation $captureOperation,
        RegisterCaptureNotificationOperation $registerCaptureNotification,
        private ?object $plugin = null,
    ) {
        parent::__construct($captureOperation, $registerCaptureNotification);
    }

    public function capture(\Magento\Sales\Api\Data\OrderPaymentInterface $payment, $invoice)
    {
        if ($this->plugin === null) {
            return parent::capture($payment, $invoice);
        }
        return $this->plugin->aroundCapture($this, fn ($payment, $invoice) => parent::capture($payment, $invoice), $payment, $invoice);
    }

    public function registerCaptureNotification(\Magento\Sales\Api\Data\OrderPaymentInterface $payment, $amount, $skipFraudDetection = false)
    {
        if ($this->plugin === null) {
            return parent::registerCaptureNotification($payment, $amount, $skipFraudDetection);
        }
        return $this->plugin->aroundRegisterCaptureNotification(
            $this,
            fn ($payment, $amount, $skip = false) => parent::registerCaptureNotification($payment, $amount, $skip),
            $payment,
            $amount,
            $skipFraudDetection,
        );
    }
}
