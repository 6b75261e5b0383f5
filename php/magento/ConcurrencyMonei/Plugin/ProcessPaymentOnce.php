<?php

declare(strict_types=1);

namespace Monei\ConcurrencyMonei\Plugin;

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\IdempotencyInProgressException;
use Monei\Concurrency\IdempotencyMismatchException;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\Model\Backend;
use Monei\ConcurrencyMonei\Model\FailedProcessing;
use Monei\ConcurrencyMonei\Model\PaymentStatusOnce;
use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;
use Monei\MoneiPayment\Api\PaymentProcessorInterface;
use Monei\MoneiPayment\Model\Data\PaymentProcessingResult;

/**
 * Around MONEI's PaymentProcessorInterface, where its webhook
 * (Controller/Payment/Callback) and its redirect (Controller/Payment/Complete)
 * process a payment: each (payment, status) is processed at most once
 * (Model\PaymentStatusOnce: order lock, idempotency record, state machine).
 *
 * MONEI's result type and HTTP behaviour are kept: a status already
 * processed, or one the payment is already past, is a success without
 * running MONEI's processing; MONEI's own failed result (order not found,
 * processing failed, database down) is returned as it is and nothing is recorded, so
 * MONEI's retry runs again (the Callback answers 422). A lock that stays
 * busy, a delivery still in progress elsewhere, Redis unreachable or any
 * other failure of the extension also ends as a failed result (422, MONEI
 * retries), never as a success. An exception of MONEI's processing passes
 * unchanged (the Callback answers 500).
 *
 * isProcessing() / waitForProcessing() are answered from the Redis locks.
 */
class ProcessPaymentOnce
{
    public function __construct(private Backend $backend, private PaymentStatusOnce $once)
    {
    }

    public function aroundProcess(
        PaymentProcessorInterface $subject,
        callable $proceed,
        string $orderId,
        string $paymentId,
        array $paymentData
    ): PaymentProcessingResultInterface {
        $status = $paymentData['status'] ?? null;
        if (!is_string($status) || $status === '' || strlen($status) > 64) {
            // Nothing to key on: MONEI's own validation answers.
            return $proceed($orderId, $paymentId, $paymentData);
        }
        try {
            $outcome = $this->once->run($orderId, $paymentId, $status, static function () use ($proceed, $orderId, $paymentId, $paymentData): string {
                $result = $proceed($orderId, $paymentId, $paymentData);
                if (!$result->isSuccess()) {
                    throw new FailedProcessing($result, $result->getMessage());
                }
                return $result->getStatus();
            });
        } catch (FailedProcessing $e) {
            return $e->result;
        } catch (LockTimeoutException $e) {
            return self::retry($status, $orderId, $paymentId, "order $orderId is locked by another request");
        } catch (IdempotencyInProgressException | IdempotencyMismatchException $e) {
            return self::retry($status, $orderId, $paymentId, "payment $paymentId $status is being processed by another request");
        } catch (BackendUnavailableException $e) {
            return self::retry($status, $orderId, $paymentId, 'lock backend unavailable');
        } catch (ConcurrencyException | InvalidArgumentException $e) {
            // Includes a claim lost while processing, a result that could not
            // be recorded and a lost lease: the outcome is not known for sure.
            return self::retry($status, $orderId, $paymentId, 'concurrency control failed: ' . get_class($e));
        }
        return PaymentProcessingResult::createSuccess((string) $outcome['status'], $orderId, $paymentId);
    }

    /** True while the order or payment lock is held (by anyone): answered from Redis, not from MONEI's database locks. */
    public function aroundIsProcessing(PaymentProcessorInterface $subject, callable $proceed, string $orderId, string $paymentId): bool
    {
        return $this->backend->orderLocks()->isLocked($orderId)
            || $this->backend->paymentLocks()->isLocked($orderId, $paymentId);
    }

    /**
     * Waits until the order and payment locks are free, woken by their
     * release instead of polling every 200 ms. False when $timeout seconds
     * ran out, or at once if this process holds the lock itself.
     */
    public function aroundWaitForProcessing(
        PaymentProcessorInterface $subject,
        callable $proceed,
        string $orderId,
        string $paymentId,
        int $timeout = 15
    ): bool {
        $deadline = hrtime(true) + Backend::waitMs($timeout) * 1_000_000;
        if (!$this->backend->orderLocks()->waitForUnlock($orderId, Backend::waitMs($timeout))) {
            return false;
        }
        $payments = $this->backend->paymentLocks();
        if (!$payments->isLocked($orderId, $paymentId)) {
            return true;
        }
        $leftMs = max(0, intdiv($deadline - hrtime(true), 1_000_000));
        try {
            // Queued like any waiter; handed the lock, give it straight back.
            $payments->acquire($orderId, $paymentId, $leftMs, 5000)->release();
        } catch (LockTimeoutException $e) {
            return false;
        }
        return true;
    }

    private static function retry(string $status, string $orderId, string $paymentId, string $message): PaymentProcessingResultInterface
    {
        return PaymentProcessingResult::createError($status, $orderId, $paymentId, $message);
    }
}
