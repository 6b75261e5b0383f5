<?php

declare(strict_types=1);

namespace Monei\ConcurrencyMonei\Model;

use Magento\Framework\Exception\LocalizedException;
use Magento\Framework\Phrase;
use Monei\Concurrency\Lease;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\Model\Backend;
use Monei\MoneiPayment\Api\LockManagerInterface;

/**
 * Drop-in for MONEI's Monei\MoneiPayment\Api\LockManagerInterface on the
 * extension's Redis locks (wired by this module's etc/di.xml).
 *
 * - The order lock is OrderLockManager keyed by the increment id: the same
 *   lock as OrderProcessor and the capture plugin of Monei_Concurrency.
 * - The payment lock is ProcessingLock keyed by (order, payment): separate
 *   keys, no "_" join to collide, and independent of the order lock, so
 *   lockOrder() then lockPayment() of the same order works (Magento's
 *   database backend allows one lock per connection and throws there).
 * - Both are re-entrant per process: lockOrder() twice (MONEI's cron path)
 *   succeeds at once and needs unlockOrder() twice. unlockOrder() and
 *   unlockPayment() release one level each (MONEI's own implementation
 *   loops until the lock is free, which with re-entrant locks would pull
 *   the lock from under an outer caller).
 * - ProcessingLock has acquire()/Lease rather than lock()/unlock(), so the
 *   Lease objects are kept here, a stack per (order, payment), and
 *   unlockPayment() releases the most recent one of this object.
 * - Timeouts are seconds, as in MONEI's interface: 0 = do not wait,
 *   negative = no limit (the extension's longest wait, 24 h).
 * - If Redis is unreachable the calls throw BackendUnavailableException
 *   instead of returning false (fail closed).
 */
class LockManager implements LockManagerInterface
{
    /** Lease of the brief acquisition waitForPaymentUnlock() makes when it is handed the lock. */
    private const PROBE_TTL_MS = 5000;

    /** @var array<string, list<Lease>> */
    private array $paymentLeases = [];

    public function __construct(private Backend $backend)
    {
    }

    public function lockOrder(string $incrementId, int $timeout = self::DEFAULT_LOCK_TIMEOUT): bool
    {
        return $this->backend->orderLocks()->lock($incrementId, Backend::waitMs($timeout));
    }

    public function unlockOrder(string $incrementId): bool
    {
        return $this->backend->orderLocks()->unlock($incrementId);
    }

    public function isOrderLocked(string $incrementId): bool
    {
        return $this->backend->orderLocks()->isLocked($incrementId);
    }

    public function lockPayment(string $orderId, string $paymentId, int $timeout = self::DEFAULT_LOCK_TIMEOUT): bool
    {
        try {
            $lease = $this->backend->paymentLocks()->acquire($orderId, $paymentId, Backend::waitMs($timeout));
        } catch (LockTimeoutException $e) {
            return false;
        }
        $this->paymentLeases[self::pair($orderId, $paymentId)][] = $lease;
        return true;
    }

    public function unlockPayment(string $orderId, string $paymentId): bool
    {
        $pair = self::pair($orderId, $paymentId);
        if (empty($this->paymentLeases[$pair])) {
            return false;
        }
        $lease = array_pop($this->paymentLeases[$pair]);
        if ($this->paymentLeases[$pair] === []) {
            unset($this->paymentLeases[$pair]);
        }
        return $lease->release();
    }

    public function isPaymentLocked(string $orderId, string $paymentId): bool
    {
        return $this->backend->paymentLocks()->isLocked($orderId, $paymentId);
    }

    /**
     * Waits until nobody holds the payment lock, woken by its release (the
     * extension's waiter queue), not polled: $interval is accepted for
     * compatibility and ignored. False when $timeout seconds ran out, and at
     * once if this process holds the lock itself (it would wait for itself).
     * When the lock is busy the wait queues like any other waiter and, when
     * handed the lock, gives it straight back (this briefly holds it and uses
     * up a fencing token, like OrderLockManager::waitForUnlock()).
     */
    public function waitForPaymentUnlock(
        string $orderId,
        string $paymentId,
        int $timeout = self::DEFAULT_MAX_WAIT_TIME,
        int $interval = self::DEFAULT_WAIT_INTERVAL
    ): bool {
        if (!empty($this->paymentLeases[self::pair($orderId, $paymentId)])) {
            return false;
        }
        $locks = $this->backend->paymentLocks();
        $holder = $locks->inspect($orderId, $paymentId);
        if ($holder === null) {
            return true;
        }
        if ((int) $holder['pid'] === getmypid() && (string) $holder['host'] === (string) gethostname()) {
            return false;
        }
        try {
            $lease = $locks->acquire($orderId, $paymentId, Backend::waitMs($timeout), self::PROBE_TTL_MS);
        } catch (LockTimeoutException $e) {
            return false;
        }
        $lease->release();
        return true;
    }

    /**
     * $callback() (no arguments, as in MONEI's implementation) under the
     * payment lock. LocalizedException if the lock is not free within
     * $timeout seconds; the callback's own exceptions reach the caller
     * unchanged; the lock is released in every case.
     *
     * @throws LocalizedException
     * @throws \Monei\Concurrency\LockLostException the lease was lost while the callback ran
     */
    public function executeWithPaymentLock(
        string $orderId,
        string $paymentId,
        callable $callback,
        int $timeout = self::DEFAULT_LOCK_TIMEOUT
    ) {
        return self::refusedAsLocalized(
            fn (callable $cb) => $this->backend->paymentLocks()
                ->executeWithLock($orderId, $paymentId, $cb, Backend::waitMs($timeout)),
            $callback,
            new Phrase('Unable to acquire payment lock for order %1, payment %2', [$orderId, $paymentId]),
        );
    }

    /**
     * $callback() under the order lock; see executeWithPaymentLock().
     *
     * @throws LocalizedException
     */
    public function executeWithOrderLock(
        string $incrementId,
        callable $callback,
        int $timeout = self::DEFAULT_LOCK_TIMEOUT
    ) {
        return self::refusedAsLocalized(
            fn (callable $cb) => $this->backend->orderLocks()
                ->executeWithOrderLock($incrementId, $cb, Backend::waitMs($timeout)),
            $callback,
            new Phrase('Unable to acquire order lock for order %1', [$incrementId]),
        );
    }

    /**
     * Runs $callback through $execute (an executeWith*Lock call). A lock that
     * is not free in time becomes LocalizedException($refused), as in MONEI's
     * implementation; a LockTimeoutException thrown by the callback itself
     * (a lock it took inside) reaches the caller unchanged.
     *
     * @throws LocalizedException
     */
    private static function refusedAsLocalized(callable $execute, callable $callback, Phrase $refused): mixed
    {
        $started = false;
        try {
            return $execute(static function () use ($callback, &$started) {
                $started = true;
                return $callback();
            });
        } catch (LockTimeoutException $e) {
            if ($started) {
                throw $e;
            }
            throw new LocalizedException($refused, $e);
        }
    }

    private static function pair(string $orderId, string $paymentId): string
    {
        return strlen($orderId) . ':' . $orderId . $paymentId;
    }
}
