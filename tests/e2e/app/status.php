<?php

declare(strict_types=1);

/* This worker's pid, the extension's per-process counters, and Redis reachability. */

require __DIR__ . '/bootstrap.php';

e2e_handle(function (): array {
    $run = e2e_run();
    $sm = new \Monei\Concurrency\PaymentStateMachine(e2e_options($run));
    e2e_call('PaymentStateMachine::current', fn () => $sm->current('status-probe'));
    return ['ok' => true, 'stats' => array_filter(\Monei\Concurrency\stats(), 'is_int')];
});
