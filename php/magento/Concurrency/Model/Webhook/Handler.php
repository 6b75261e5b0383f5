<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Webhook;

use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Sales\Model\Order;
use Monei\Concurrency\Api\PaymentUpdateProcessorInterface;
use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\IdempotencyInProgressException;
use Monei\Concurrency\IdempotencyClaimLostException;
use Monei\Concurrency\IdempotencyMismatchException;
use Monei\Concurrency\IdempotencyResultUnknownException;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\Model\Backend;
use Monei\Concurrency\Model\OrderProcessor;
use Monei\Concurrency\WebhookSignature;

/**
 * The decisions of the MONEI webhook endpoint, without Magento's HTTP stack
 * (Controller\Webhook\Index only copies the Response into a Raw result).
 *
 * 1. MONEI-Signature is checked with WebhookSignature::verify()      -> 403 if wrong or missing
 * 2. the body must be a JSON object with string id, orderId, status  -> 400 otherwise
 * 3. IdempotencyStore::once() keyed on (payment id, status), with the
 *    sha256 of the body as fingerprint: a delivery that was processed
 *    before gets the stored answer                                   -> 200 "duplicate: ..."
 *    one that is still running elsewhere after duplicate_wait_ms     -> 409 (MONEI retries)
 *    the same key with a different body (a re-sent event)            -> 200 "duplicate: ..."
 *      (409 while the first delivery is still running: it may yet fail)
 * 4. OrderProcessor: order lock, order loaded, transaction; inside it
 *    PaymentStateMachine::advance() (so statuses are applied in lock
 *    order): a stale or unreachable status changes nothing           -> 200 "stale: ..."
 *    an unknown status                                               -> 400
 *    otherwise the PaymentUpdateProcessor runs, then save + commit   -> 200 "processed: ..."
 *
 * Failures answer non-2xx so MONEI delivers again, and drop the idempotency
 * claim so that delivery runs again: order lock busy for lock_wait_ms -> 409,
 * no such order (yet) -> 404, Redis unreachable -> 503, anything else
 * (database, lost lease, the processor's exceptions) -> 500. Two outcomes
 * ran the processing and still answer non-2xx, never a success nobody can
 * vouch for: the claim was taken over by another delivery while it ran
 * -> 409 (the retry gets that delivery's stored answer), the result could
 * not be recorded -> 503 (the retry runs again once the claim expires; the
 * capture guard refuses a second capture).
 *
 * A status that the state machine already holds but whose delivery never
 * completed (an earlier attempt advanced it, then failed before the commit)
 * is processed again rather than treated as a duplicate: advance() alone
 * would lose that update.
 */
class Handler
{
    private const KEY_PREFIX = 'monei-webhook:';
    private const MAX_ID_BYTES = 255;
    private const MAX_STATUS_BYTES = 64;

    public function __construct(
        private Backend $backend,
        private OrderProcessor $orderProcessor,
        private PaymentUpdateProcessorInterface $processor,
    ) {
    }

    public function handle(string $body, string $signatureHeader): Response
    {
        $config = $this->backend->config();
        $secrets = $config->webhookSecrets();
        if ($secrets === []) {
            return new Response(500, 'webhook secret not configured (monei_concurrency.webhook.secret in app/etc/env.php)');
        }
        try {
            $valid = $signatureHeader !== ''
                && WebhookSignature::verify($body, $signatureHeader, $secrets, $config->webhookToleranceS());
        } catch (InvalidArgumentException $e) {
            return new Response(500, 'webhook signature settings are invalid');
        }
        if (!$valid) {
            return new Response(403, 'invalid signature');
        }

        $event = json_decode($body, true);
        if (!is_array($event) || array_is_list($event)) {
            return new Response(400, 'the body is not a JSON object');
        }
        $paymentId = self::field($event, 'id', self::MAX_ID_BYTES);
        $orderId = self::field($event, 'orderId', self::MAX_ID_BYTES);
        $status = self::field($event, 'status', self::MAX_STATUS_BYTES);
        if ($paymentId === null || $orderId === null || $status === null) {
            return new Response(400, 'the body needs string fields id, orderId and status');
        }

        $ran = false;
        try {
            $result = $this->backend->idempotencyStore()->once(
                self::idempotencyKey($paymentId, $status),
                function () use ($orderId, $paymentId, $status, $event, &$ran): string {
                    $ran = true;
                    return $this->apply($orderId, $paymentId, $status, $event);
                },
                hash('sha256', $body),
                $config->webhookDuplicateWaitMs(),
            );
        } catch (UnknownStatusException $e) {
            return new Response(400, $e->getMessage());
        } catch (IdempotencyMismatchException $e) {
            try {
                $inProgress = $this->backend->idempotencyStore()->status(self::idempotencyKey($paymentId, $status)) === 'in_progress';
            } catch (BackendUnavailableException $e) {
                return new Response(503, 'lock backend unavailable');
            }
            return $inProgress
                ? new Response(409, "payment $paymentId $status is being processed by another request")
                : new Response(200, "duplicate: payment $paymentId $status was already delivered with another body");
        } catch (IdempotencyInProgressException $e) {
            return new Response(409, "payment $paymentId $status is being processed by another request");
        } catch (LockTimeoutException $e) {
            return new Response(409, "order $orderId is locked by another request");
        } catch (NoSuchEntityException $e) {
            return new Response(404, "no order $orderId");
        } catch (BackendUnavailableException $e) {
            return new Response(503, 'lock backend unavailable');
        } catch (IdempotencyClaimLostException $e) {
            // Ran, but another delivery took the key over meanwhile: its result
            // is the one kept, and MONEI's retry gets it as a duplicate.
            return new Response(409, "payment $paymentId $status was taken over by another request; retry");
        } catch (IdempotencyResultUnknownException $e) {
            // Ran, but the result may not be recorded: never claim success.
            return new Response(503, "payment $paymentId $status was processed but could not be recorded; retry");
        } catch (\Throwable $e) {
            return new Response(500, 'processing failed: ' . get_class($e));
        }
        return new Response(200, $ran ? (string) $result : 'duplicate: ' . $result);
    }

    /** The IdempotencyStore key of a (payment, status); hashed when it would be too long. */
    public static function idempotencyKey(string $paymentId, string $status): string
    {
        $key = self::KEY_PREFIX . $status . ':' . $paymentId;
        return strlen($key) > self::MAX_ID_BYTES ? self::KEY_PREFIX . hash('sha256', $status . "\0" . $paymentId) : $key;
    }

    private function apply(string $orderId, string $paymentId, string $status, array $event): string
    {
        return $this->orderProcessor->processOrderById(
            $orderId,
            function (Order $order, AdapterInterface $connection) use ($paymentId, $status, $event): string {
                $states = $this->backend->stateMachine();
                try {
                    $advanced = $states->advance($paymentId, $status);
                } catch (InvalidArgumentException $e) {
                    throw new UnknownStatusException("unknown payment status \"$status\"", 0, $e);
                }
                if (!$advanced) {
                    $current = $states->current($paymentId);
                    if ($current !== $status) {
                        return "stale: payment $paymentId is $current, $status ignored";
                    }
                }
                return 'processed: ' . $this->processor->process($order, $connection, $event);
            },
        );
    }

    /** A non-empty string (or integer) field without NUL, at most $maxBytes long; null otherwise. */
    private static function field(array $event, string $name, int $maxBytes): ?string
    {
        $v = $event[$name] ?? null;
        if (is_int($v)) {
            $v = (string) $v;
        }
        if (!is_string($v) || $v === '' || strlen($v) > $maxBytes || str_contains($v, "\0")) {
            return null;
        }
        return $v;
    }
}
