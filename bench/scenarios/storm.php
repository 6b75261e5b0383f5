<?php
// Scenario 7, end to end: the webhook storm of the reliability suite
// (tests/e2e: PHP-FPM static with 8 workers behind nginx, signed MONEI
// webhooks delivered 3-10 times each, shuffled and out of order, plus
// redirect callbacks for the same orders, 32 requests in flight) against a
// fresh stack, the app capturing under the lock `lock` selects
// (tests/e2e/app/locks.php: "monei" or "getlock"; "none" is the control run,
// the same code without a lock). Counts requests per
// second, latency and payments captured more than once.
// Params: lock, payments, webhooks, seed, round, fsync (the Redis AOF fsync
// policy: always, as in the reliability suite, unless given).
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';
require __DIR__ . '/../../tests/e2e/Stack.php';
require __DIR__ . '/../../tests/e2e/Driver.php';
require __DIR__ . '/../../tests/e2e/app/schema.php';

use Monei\Concurrency\E2e\Driver;
use Monei\Concurrency\E2e\Stack;
use Monei\Concurrency\E2e\Workload;

$p = params();
$dir = sys_get_temp_dir() . "/monei-bench-storm-{$p['lock']}-" . getmypid();
$stack = new Stack($dir, (string) getenv('BENCH_EXT'));
register_shutdown_function(function () use ($stack, $dir): void {
    $stack->stopAll();
    exec('rm -rf ' . escapeshellarg($dir));
});

$stack->startRedis($p['fsync'] ?? 'always');
$stack->startFpm(8, 0, $p['ini'] ?? [], ['E2E_LOCK' => $p['lock'] === 'none' ? 'monei' : $p['lock'],
    // Over loopback TCP, like Redis, when the bench's MariaDB listens on a port.
    'E2E_MARIADB' => getenv('BENCH_MARIADB_PORT') ? '127.0.0.1:' . getenv('BENCH_MARIADB_PORT') : mariadb_socket()]);
$stack->startNginx();

$run = "storm{$p['round']}";
$db = new PDO("sqlite:$dir/data/$run.sqlite");
$db->exec('PRAGMA journal_mode = WAL');
e2e_schema($db);

$w = new Workload($run, (int) $p['payments'], (int) $p['webhooks'], (int) $p['seed'], 0.02, $p['lock'] === 'none');
$d = new Driver($w, $stack->baseUrl(), 32, 0, 120);
$d->run();

$lat = [];
$codes = [];
foreach ($d->log as $e) {
    $lat[] = ($e['end'] - $e['start']) * 1000;
    $codes[$e['code']] = ($codes[$e['code']] ?? 0) + 1;
}
ksort($codes);
$captures = [];
foreach ($db->query('SELECT payment_id, COUNT(*) FROM captures GROUP BY payment_id') as [$pay, $n]) {
    $captures[$pay] = (int) $n;
}
$double = count(array_filter($captures, fn ($n) => $n > 1));
$wall = $d->finished - $d->started;
emit([
    'requests' => count($d->log),
    'wall_s' => $wall,
    'rps' => count($d->log) / $wall,
    'p50_ms' => percentile($lat, 50),
    'p99_ms' => percentile($lat, 99),
    'max_ms' => max($lat),
    'payments' => count($w->payments),
    'captured' => count($captures),
    'double' => $double,
    'undelivered' => count($d->undelivered),
    'codes' => $codes,
]);
