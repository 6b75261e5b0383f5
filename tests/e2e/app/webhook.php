<?php

declare(strict_types=1);

/*
 * MONEI webhook: POST, JSON body {"id": <payment>, "orderId": <order>, "status": ...},
 * header MONEI-Signature: t=<unix>,v1=<hmac>.
 *
 * verify -> once(payment id + status) { advance state; capture if the status
 * means the payment succeeded } -> 200. Duplicates get the stored result.
 */

use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\WebhookSignature;

require __DIR__ . '/bootstrap.php';

e2e_handle(function (): array {
    $run = e2e_run();
    $body = (string) file_get_contents('php://input');
    $header = (string) ($_SERVER['HTTP_MONEI_SIGNATURE'] ?? '');
    if (!WebhookSignature::verify($body, $header, E2E_SECRETS, 300)) {
        throw new E2eHttpError(403, 'bad signature');
    }
    $event = json_decode($body, true);
    if (!is_array($event) || !is_string($event['id'] ?? null) || !is_string($event['orderId'] ?? null)
        || !is_string($event['status'] ?? null)) {
        throw new E2eHttpError(400, 'bad payload');
    }
    ['id' => $paymentId, 'orderId' => $orderId, 'status' => $status] = $event;

    $store = new IdempotencyStore(e2e_options($run, ['in_progress_ttl_ms' => 5000]));
    $ran = new \stdClass();   // an object: the arrow function below captures by value
    $ran->yes = false;
    $result = e2e_call('IdempotencyStore::once', fn () => $store->once("wh:$paymentId:$status",
        function () use ($ran, $run, $orderId, $paymentId, $status): array {
            $ran->yes = true;
            $sm = new PaymentStateMachine(e2e_options($run));
            $advanced = e2e_call('PaymentStateMachine::advance', fn () => $sm->advance($paymentId, $status));
            e2e_db($run)->prepare('INSERT INTO webhook_runs (payment_id, status, advanced, pid, at) VALUES (?, ?, ?, ?, ?)')
                ->execute([$paymentId, $status, (int) $advanced, getmypid(), microtime(true)]);
            $capture = in_array($status, E2E_CAPTURED_STATUSES, true)
                ? e2e_capture($run, $orderId, $paymentId, 'webhook')
                : null;
            return ['advanced' => $advanced, 'capture' => $capture];
        }, hash('sha256', $body), 2000));

    return ['ok' => true, 'duplicate' => !$ran->yes] + $result;
});
