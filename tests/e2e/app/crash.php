<?php

declare(strict_types=1);

/*
 * Fault injection: ends the request abnormally inside a locked callback whose
 * lease is 30 s long (so expiry cannot be what frees it):
 *   ?mode=exit       exit() in the callback
 *   ?mode=user_error trigger_error(E_USER_ERROR)
 *   ?mode=undefined  call to an undefined function (uncaught Error)
 *   ?mode=timeout    set_time_limit(1) and a busy loop (max_execution_time)
 * The lock must be free once the response has arrived.
 */

use Monei\Concurrency\Lease;
use Monei\Concurrency\ProcessingLock;

require __DIR__ . '/bootstrap.php';

$run = e2e_run();
$mode = (string) ($_GET['mode'] ?? '');
$lock = new ProcessingLock(e2e_options($run));
$lock->executeWithLock((string) $_GET['order'], (string) $_GET['payment'], function (Lease $lease) use ($mode): void {
    header('X-Lease-Token: ' . $lease->token());
    header('X-Worker-Pid: ' . getmypid());
    switch ($mode) {
        case 'exit':
            echo "exiting inside the lock\n";
            exit(0);
        case 'user_error':
            trigger_error('fatal inside the lock', E_USER_ERROR);
            break;
        case 'undefined':
            \e2e_this_function_does_not_exist();
            break;
        case 'timeout':
            set_time_limit(1);
            for ($i = 0; ; $i++) {
            }
    }
}, 2000, 30000);
echo "not reached\n";
