<?php

declare(strict_types=1);

/*
 * The payment lock the app captures under, switchable for the benchmark's
 * end-to-end comparison (bench/README.md): the FPM pool's environment
 * variable E2E_LOCK selects it.
 *   (unset) or "monei"  ProcessingLock::executeWithLock() of the extension
 *   "getlock"           MONEI's lock manager on Magento's database lock backend
 *                       (bench/lib/magento.php), GET_LOCK on the MariaDB server
 *                       at E2E_MARIADB (a socket path or host:port), one
 *                       connection per FPM worker; every request waits
 *                       inside GET_LOCK
 *   "getlock_poll"      the same, but a redirect that finds the payment locked
 *                       first polls IS_USED_LOCK every 500 ms, as MONEI's
 *                       redirect controller does
 * The callback gets the extension's fencing token; GET_LOCK has none (null:
 * the capture row gets a random negative number, like the control run's).
 */

interface E2eLock
{
    /**
     * Runs $fn(?int $token) holding the lock of (order, payment) for $source
     * ("webhook" or "redirect"), waiting up to $waitMs; $token is the
     * extension's fencing token, null for a lock without one.
     */
    public function run(string $run, string $orderId, string $paymentId, string $source, callable $fn, int $waitMs): mixed;
}

final class E2eExtensionLock implements E2eLock
{
    public function run(string $run, string $orderId, string $paymentId, string $source, callable $fn, int $waitMs): mixed
    {
        $lock = new \Monei\Concurrency\ProcessingLock(e2e_options($run));
        return e2e_call('ProcessingLock::executeWithLock', fn () => $lock->executeWithLock($orderId, $paymentId,
            fn (\Monei\Concurrency\Lease $lease) => $fn($lease->token()), $waitMs));
    }
}

/**
 * As MONEI's module: the webhook takes the lock with GET_LOCK (waiting in the
 * server); with $poll the redirect first waits for a payment it finds locked
 * by polling IS_USED_LOCK every 500 ms, as MONEI's redirect controller does.
 */
final class E2eGetLock implements E2eLock
{
    public function __construct(private bool $poll)
    {
    }

    public function run(string $run, string $orderId, string $paymentId, string $source, callable $fn, int $waitMs): mixed
    {
        require_once dirname(__DIR__, 3) . '/bench/lib/magento.php';
        // A persistent connection, one per worker: a store has its database
        // connection open anyway, so opening one is not the lock's cost.
        $backend = new \MagentoDatabaseLock(\MagentoDatabaseLock::connect((string) getenv('E2E_MARIADB'), true));
        $manager = new \MoneiLockManager($backend, $this->poll && $source === 'redirect');
        try {
            return $manager->executeWithPaymentLock("$run-$orderId", $paymentId,
                fn () => $fn(null), intdiv($waitMs + 999, 1000));
        } catch (\MoneiLockTimeout) {
            throw new E2eHttpError(409, 'lock_timeout');
        }
    }
}

function e2e_lock(): E2eLock
{
    return match (getenv('E2E_LOCK') ?: 'monei') {
        'monei' => new E2eExtensionLock(),
        'getlock' => new E2eGetLock(false),
        'getlock_poll' => new E2eGetLock(true),
        default => throw new E2eHttpError(500, 'unknown E2E_LOCK'),
    };
}
