<?php

declare(strict_types=1);

namespace Monei\ConcurrencyMonei\Model;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Model\Backend;

/**
 * Runs MONEI's processing of one (payment, status) at most once, across all
 * processes: the order lock; inside it IdempotencyStore::once() keyed on
 * (payment id, status); inside that PaymentStateMachine::advance(), so a
 * status the payment is already past is answered without running anything.
 *
 * Shared by the plugins on PaymentProcessorInterface::process() (webhook and
 * redirect) and PaymentProcessor::processPayment() (where the cron path and
 * process() itself meet): while process() runs a (payment, status) in this
 * process, its own nested processPayment() call passes straight through.
 */
class PaymentStatusOnce
{
    private const KEY_PREFIX = 'monei-process:';
    private const MAX_KEY_BYTES = 255;

    /** @var array<string, int> (payment, status) keys being run by this process */
    private static array $active = [];

    public function __construct(private Backend $backend)
    {
    }

    public function isRunningHere(string $paymentId, string $status): bool
    {
        return isset(self::$active[self::idempotencyKey($paymentId, $status)]);
    }

    /**
     * @param callable(): string $work MONEI's processing; returns the status it
     *        processed, or throws FailedProcessing with MONEI's failed answer
     * @return array{status: string, outcome: 'processed'|'stale'} the first
     *         run's outcome (also for duplicates, which do not run $work)
     * @throws FailedProcessing MONEI's processing failed; nothing was recorded
     * @throws \Monei\Concurrency\ConcurrencyException lock busy, Redis down,
     *         in progress elsewhere, claim or lease lost, ...
     */
    public function run(string $orderId, string $paymentId, string $status, callable $work): array
    {
        $key = self::idempotencyKey($paymentId, $status);
        self::$active[$key] = (self::$active[$key] ?? 0) + 1;
        try {
            // The order lock first, then the claim, on every path: MONEI's cron
            // holds the order lock when it gets here, and a webhook that
            // claimed first and then waited for that lock would deadlock with it.
            return $this->backend->orderLocks()->executeWithOrderLock(
                $orderId,
                fn (): array => $this->backend->idempotencyStore()->once(
                    $key,
                    function () use ($paymentId, $status, $work): array {
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
                            // Held but never completed (an earlier attempt failed): run again.
                        }
                        return ['status' => $work(), 'outcome' => 'processed'];
                    },
                    '',
                    $this->backend->config()->webhookDuplicateWaitMs(),
                ),
            );
        } finally {
            if (--self::$active[$key] === 0) {
                unset(self::$active[$key]);
            }
        }
    }

    /** The IdempotencyStore key of a (payment, status); hashed when it would be too long. */
    public static function idempotencyKey(string $paymentId, string $status): string
    {
        $key = self::KEY_PREFIX . $status . ':' . $paymentId;
        return strlen($key) > self::MAX_KEY_BYTES ? self::KEY_PREFIX . hash('sha256', $status . "\0" . $paymentId) : $key;
    }
}
