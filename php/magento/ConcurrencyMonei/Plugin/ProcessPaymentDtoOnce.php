<?php

declare(strict_types=1);

namespace Monei\ConcurrencyMonei\Plugin;

use Magento\Sales\Api\Data\OrderInterface;
use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\InvalidArgumentException;
use Monei\ConcurrencyMonei\Model\FailedProcessing;
use Monei\ConcurrencyMonei\Model\PaymentStatusOnce;
use Monei\MoneiPayment\Model\Data\PaymentDTO;
use Monei\MoneiPayment\Model\PaymentProcessor;

/**
 * Around MONEI's PaymentProcessor::processPayment(), where its cron
 * (Cron/ProcessPendingOrders -> processPaymentById()) meets the webhook and
 * redirect path: the cron's (payment, status) is processed at most once too,
 * with the same record, lock and state machine as process().
 *
 * Inside process() (already guarded for this payment and status by
 * ProcessPaymentOnce) it passes straight through. Otherwise a duplicate or a
 * stale status returns true without running; MONEI's false, a busy lock,
 * Redis down or any failure of the extension return false, as MONEI's own
 * method does when it cannot process (the cron logs it and tries again on
 * its next run).
 */
class ProcessPaymentDtoOnce
{
    public function __construct(private PaymentStatusOnce $once)
    {
    }

    public function aroundProcessPayment(PaymentProcessor $subject, callable $proceed, OrderInterface $order, PaymentDTO $payment): bool
    {
        $paymentId = $payment->getId();
        $status = $payment->getStatus();
        $incrementId = (string) $order->getIncrementId();
        if ($status === '' || strlen($status) > 64 || $incrementId === '' || $this->once->isRunningHere($paymentId, $status)) {
            return $proceed($order, $payment);
        }
        try {
            $this->once->run($incrementId, $paymentId, $status, static function () use ($proceed, $order, $payment, $status): string {
                if (!$proceed($order, $payment)) {
                    throw new FailedProcessing(false, "processPayment() returned false for $status");
                }
                return $status;
            });
        } catch (FailedProcessing | ConcurrencyException | InvalidArgumentException $e) {
            return false;
        }
        return true;
    }
}
