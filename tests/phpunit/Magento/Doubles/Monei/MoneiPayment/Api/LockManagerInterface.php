<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Api;

/**
 * Double of MONEI's Monei\MoneiPayment\Api\LockManagerInterface
 * (monei/module-monei-payment 2.2.x): same constants and signatures.
 * Timeouts are seconds; $interval is milliseconds.
 */
interface LockManagerInterface
{
    public const ORDER_LOCK_PREFIX = 'MONEI_ORDER_LOCK_';
    public const PAYMENT_LOCK_PREFIX = 'MONEI_PAYMENT_LOCK_';
    public const DEFAULT_LOCK_TIMEOUT = 5;
    public const MAX_LOCK_TIMEOUT = 1800;
    public const DEFAULT_WAIT_INTERVAL = 500;
    public const DEFAULT_MAX_WAIT_TIME = 15;

    public function lockOrder(string $incrementId, int $timeout = self::DEFAULT_LOCK_TIMEOUT): bool;

    public function unlockOrder(string $incrementId): bool;

    public function isOrderLocked(string $incrementId): bool;

    public function lockPayment(string $orderId, string $paymentId, int $timeout = self::DEFAULT_LOCK_TIMEOUT): bool;

    public function unlockPayment(string $orderId, string $paymentId): bool;

    public function isPaymentLocked(string $orderId, string $paymentId): bool;

    public function waitForPaymentUnlock(
        string $orderId,
        string $paymentId,
        int $timeout = self::DEFAULT_MAX_WAIT_TIME,
        int $interval = self::DEFAULT_WAIT_INTERVAL
    ): bool;

    /** @return mixed the callback's result */
    public function executeWithPaymentLock(
        string $orderId,
        string $paymentId,
        callable $callback,
        int $timeout = self::DEFAULT_LOCK_TIMEOUT
    );

    /** @return mixed the callback's result */
    public function executeWithOrderLock(
        string $incrementId,
        callable $callback,
        int $timeout = self::DEFAULT_LOCK_TIMEOUT
    );
}
