<?php

declare(strict_types=1);

/*
 * Fault injection: takes the payment lock with a fixed lease (?ttl= ms, not
 * renewed), answers at once with this worker's pid and the lease token
 * (fastcgi_finish_request), then keeps the lock for ?sleep= seconds. The
 * test kills this worker with SIGKILL meanwhile.
 */

use Monei\Concurrency\ProcessingLock;

require __DIR__ . '/bootstrap.php';

e2e_handle(function (): array {
    $run = e2e_run();
    $lock = new ProcessingLock(e2e_options($run));
    $lease = $lock->acquire((string) $_GET['order'], (string) $_GET['payment'], 2000, (int) ($_GET['ttl'] ?? 3000));
    $answer = ['ok' => true, 'pid' => getmypid(), 'token' => $lease->token(), 'acquired_at' => microtime(true)];
    http_response_code(200);
    header('Content-Type: application/json');
    echo json_encode($answer), "\n";
    fastcgi_finish_request();
    sleep((int) ($_GET['sleep'] ?? 10));
    $lease->release();
    exit;
});
