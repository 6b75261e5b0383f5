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
use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;
use Monei\MoneiPayment\Api\PaymentProcessorInterface;
use Monei\MoneiPayment\Model\Data\PaymentProcessingResult;

/**
 * Around MONEI's PaymentProcessorInterface, where its webhook
 * (Controller/Payment/Callback), its redirect (Controller/Payment/Complete)
 * and its cron meet: each (payment, status) is processed at most once.
 *
 * process($orderId, $paymentId, $paymentData):
 *  1. IdempotencyStore::once() keyed on (payment id, status): a duplicate or
 *     concurrent delivery of a status already processed gets the first
 *     result (waiting up to webhook.duplicate_wait_ms for one in progress)
 *     and MONEI's processing does not run again;
 *  2. inside it, the order lock (the same lock as OrderProcessor, the
 *     capture guard and the LockManager drop-in), waited for lock_wait_ms;
 *  3. inside the lock, PaymentStateMachine::advance(): a status the payment
 *     is already past (AUTHORIZED after SUCCEEDED) is answered as a success
 *     without running MONEI's processing;
 *  4. otherwise MONEI's own process() runs.
 *
 * MONEI's result type and HTTP behaviour are kept: its failed result (order
 * not found, processing failed) is returned as it is and nothing is recorded,
 * so MONEI's retry runs again (the Callback answers 422). A lock that stays
 * busy, a delivery still in progress elsewhere, Redis unreachable or any
 * other failure of the extension also ends as a failed result (422, MONEI
 * retries), never as a success. Exceptions of MONEI's processing pass
 * unchanged (the Callback answers 500).
 *
 * A status the state machine holds but whose processing never completed (an
 * earlier attempt failed after advancing it) is processed again, not taken
 * for stale.
 */
class ProcessPaymentOnce
{
    private const KEY_PREFIX = 'monei-process:';
    private const MAX_KEY_BYTES = 255;

    public function __construct(private Backend $backend)
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
        $config = $this->backend->config();
        try {
            $outcome = $this->backend->idempotencyStore()->once(
                self::idempotencyKey($paymentId, $status),
                fn (): array => $this->processUnderOrderLock($proceed, $orderId, $paymentId, $status, $paymentData),
                '',
                $config->webhookDuplicateWaitMs(),
            );
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

    /** @return array{status: string, outcome: string} */
    private function processUnderOrderLock(callable $proceed, string $orderId, string $paymentId, string $status, array $paymentData): array
    {
        return $this->backend->orderLocks()->executeWithOrderLock(
            $orderId,
            function () use ($proceed, $orderId, $paymentId, $status, $paymentData): array {
                $states = $this->backend->stateMachine();
                try {
                    $advanced = $states->advance($paymentId, $status);
                } catch (InvalidArgumentException $e) {
                    $advanced = true; // a status the graph does not know: MONEI's processing decides
                }
                if (!$advanced) {
                    $current = (string) $states->current($paymentId);
                    if ($current !== $status) {
                        return ['status' => $current, 'outcome' => 'stale'];
                    }
                }
                $result = $proceed($orderId, $paymentId, $paymentData);
                if (!$result->isSuccess()) {
                    throw new FailedProcessing($result);
                }
                return ['status' => $result->getStatus(), 'outcome' => 'processed'];
            },
        );
    }

    /** The IdempotencyStore key of a (payment, status); hashed when it would be too long. */
    public static function idempotencyKey(string $paymentId, string $status): string
    {
        $key = self::KEY_PREFIX . $status . ':' . $paymentId;
        return strlen($key) > self::MAX_KEY_BYTES ? self::KEY_PREFIX . hash('sha256', $status . "\0" . $paymentId) : $key;
    }

    private static function retry(string $status, string $orderId, string $paymentId, string $message): PaymentProcessingResultInterface
    {
        return PaymentProcessingResult::createError($status, $orderId, $paymentId, $message);
    }
}
