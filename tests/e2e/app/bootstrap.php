<?php

declare(strict_types=1);

/*
 * Shared part of the e2e webhook application (plain PHP, no framework).
 *
 * Every request names its test run (?run=<id>): the run selects the Redis key
 * prefix and the SQLite file, so runs never see each other's state. The
 * Redis server and timeouts come from the INI of the PHP-FPM pool
 * (monei_concurrency.redis_url, io_timeout_ms = 500, ...).
 *
 * Error mapping, as a MONEI webhook endpoint should answer (non-2xx = MONEI
 * retries later):
 *   BackendUnavailableException                       -> 503
 *   LockTimeoutException, IdempotencyInProgressException -> 409
 *   bad signature                                     -> 403
 *   bad request                                       -> 400
 */

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\IdempotencyClaimLostException;
use Monei\Concurrency\IdempotencyInProgressException;
use Monei\Concurrency\IdempotencyResultUnknownException;
use Monei\Concurrency\LockTimeoutException;

require_once __DIR__ . '/schema.php';
require_once __DIR__ . '/locks.php';

const E2E_SECRETS = ['sk_e2e_previous_key', 'sk_e2e_current_key'];
/** Statuses at which the order must have been captured (invoiced). */
const E2E_CAPTURED_STATUSES = ['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

final class E2eHttpError extends \RuntimeException
{
    public function __construct(public readonly int $status, string $error, public readonly array $extra = [])
    {
        parent::__construct($error);
    }
}

/** Wall time spent in the innermost extension call that failed with BackendUnavailableException. */
$GLOBALS['e2e_failed_call'] = null;

function e2e_started(): float
{
    return (float) $_SERVER['REQUEST_TIME_FLOAT'];
}

function e2e_respond(int $status, array $body): never
{
    http_response_code($status);
    header('Content-Type: application/json');
    $body['pid'] = getmypid();
    $body['ms'] = round((microtime(true) - e2e_started()) * 1000, 2);
    echo json_encode($body, JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    exit;
}

function e2e_run(): string
{
    $run = (string) ($_GET['run'] ?? '');
    if (!preg_match('/^[a-z0-9-]{1,40}$/', $run)) {
        throw new E2eHttpError(400, 'bad run id');
    }
    return $run;
}

function e2e_data_dir(): string
{
    $dir = getenv('E2E_DATA_DIR') ?: ($_SERVER['E2E_DATA_DIR'] ?? '');
    if ($dir === '' || !is_dir($dir)) {
        throw new E2eHttpError(500, 'E2E_DATA_DIR is not set');
    }
    return $dir;
}

/** Per-object options of the extension for this run; everything else comes from the INI. */
function e2e_options(string $run, array $extra = []): array
{
    return ['key_prefix' => "e2e:$run:"] + $extra;
}

function e2e_db(string $run): \PDO
{
    $db = new \PDO('sqlite:' . e2e_data_dir() . "/$run.sqlite", null, null, [
        \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
        \PDO::ATTR_TIMEOUT => 10,          // busy timeout, seconds
    ]);
    $db->exec('PRAGMA busy_timeout = 10000');
    $db->exec('PRAGMA journal_mode = WAL');
    $db->exec('PRAGMA synchronous = NORMAL');
    return $db;
}

/**
 * Runs one extension call; remembers how long it took if it is the one that
 * failed with BackendUnavailableException (the innermost such call).
 */
function e2e_call(string $what, callable $fn): mixed
{
    $t = microtime(true);
    try {
        return $fn();
    } catch (BackendUnavailableException $e) {
        $GLOBALS['e2e_failed_call'] ??= ['call' => $what, 'ms' => round((microtime(true) - $t) * 1000, 2)];
        throw $e;
    }
}

/**
 * Captures (invoices) the payment unless it already was: under the payment
 * lock (locks.php), reading the store INSIDE the lock. The "PSP capture call" takes 1-3 ms.
 * With ?naive=1 (the test's control run) the same code runs without the lock.
 */
function e2e_capture(string $run, string $orderId, string $paymentId, string $source): string
{
    $capture = function (?int $token) use ($run, $orderId, $paymentId, $source): string {
        $db = e2e_db($run);
        if ($token !== null) {
            // Every acquisition of the extension's lock, counted apart from its
            // own counters (the scrape scenario compares the two).
            $db->prepare('INSERT INTO lock_holds (payment_id, token, pid, at) VALUES (?, ?, ?, ?)')
                ->execute([$paymentId, $token, getmypid(), microtime(true)]);
        }
        $st = $db->prepare('SELECT COUNT(*) FROM captures WHERE payment_id = ?');
        $st->execute([$paymentId]);
        $n = (int) $st->fetchColumn();
        // End the read transaction now: upgrading it to a write later
        // would fail with SQLITE_BUSY at once, without the busy timeout.
        $st->closeCursor();
        if ($n > 0) {
            return 'already-captured';
        }
        usleep(random_int(1000, 3000));
        $db->prepare('INSERT INTO captures (payment_id, order_id, source, token, pid, at) VALUES (?, ?, ?, ?, ?, ?)')
            ->execute([$paymentId, $orderId, $source, $token ?? -random_int(1, PHP_INT_MAX), getmypid(), microtime(true)]);
        return 'captured';
    };
    if (($_GET['naive'] ?? '') === '1') {
        // Control run of the test: the same code without the lock.
        return $capture(null);
    }
    return e2e_lock()->run($run, $orderId, $paymentId, $source, $capture, 3000);
}

/** Runs a handler and maps exceptions to HTTP answers. */
function e2e_handle(callable $handler): never
{
    try {
        e2e_respond(200, $handler());
    } catch (E2eHttpError $e) {
        e2e_respond($e->status, ['error' => $e->getMessage()] + $e->extra);
    } catch (BackendUnavailableException $e) {
        e2e_respond(503, ['error' => 'backend_unavailable', 'failed_call' => $GLOBALS['e2e_failed_call'],
            'message' => $e->getMessage()]);
    } catch (LockTimeoutException $e) {
        e2e_respond(409, ['error' => 'lock_timeout']);
    } catch (IdempotencyInProgressException $e) {
        e2e_respond(409, ['error' => 'in_progress']);
    } catch (IdempotencyClaimLostException $e) {
        e2e_respond(409, ['error' => 'claim_lost']);
    } catch (IdempotencyResultUnknownException $e) {
        e2e_respond(503, ['error' => 'result_unknown', 'failed_call' => $GLOBALS['e2e_failed_call'],
            'message' => $e->getMessage()]);
    }
}
