<?php

declare(strict_types=1);

/*
 * The customer's browser coming back: GET ?order=&payment=. The (simulated)
 * MONEI API says the payment succeeded, so capture it under the same payment
 * lock as the webhooks, unless it already was.
 */

require __DIR__ . '/bootstrap.php';

e2e_handle(function (): array {
    $run = e2e_run();
    $orderId = (string) ($_GET['order'] ?? '');
    $paymentId = (string) ($_GET['payment'] ?? '');
    if ($orderId === '' || $paymentId === '') {
        throw new E2eHttpError(400, 'order and payment are required');
    }
    return ['ok' => true, 'capture' => e2e_capture($run, $orderId, $paymentId, 'redirect')];
});
