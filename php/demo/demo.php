<?php

declare(strict_types=1);

/*
 * make demo: duplicate MONEI webhooks and customer redirects race for the same
 * orders, first unprotected, then with Monei\Concurrency\ProcessingLock.
 *
 * Eight worker processes (like PHP-FPM workers) receive the deliveries of 50
 * orders: each payment's webhook is delivered 3-6 times (MONEI delivers at
 * least once and retries) and the customer's browser comes back 1-2 times on
 * the redirect URL. Most of an order's deliveries arrive within a few
 * milliseconds of each other on different workers; retries come later. Every
 * delivery runs the same simulated Magento handler:
 *
 *     load order; if not invoiced yet: call the payment API (1-3 ms), create invoice
 *
 * That check-then-act is what double-invoices orders. The second run wraps the
 * handler in ProcessingLock::executeWithLock() and re-reads the order inside.
 *
 * Environment: REDIS_URL (set by tests/tools/with-redis.sh), DEMO_SEED to
 * replay a schedule, DEMO_ORDERS / DEMO_WORKERS to change the size.
 * Exit status: 0 when the protected run invoiced every order exactly once.
 */

use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\Lease;
use Monei\Concurrency\ProcessingLock;

require __DIR__ . '/store.php';

const SLOT_MS = 15;        // one order's burst of deliveries every 15 ms
const BURST_MS = 4;        // spread of the near-simultaneous deliveries
const RETRY_MS = [20, 80]; // later webhook retries

foreach (['pcntl', 'posix', 'monei_concurrency'] as $ext) {
    if (!extension_loaded($ext)) {
        fwrite(STDERR, "demo: the PHP extension '$ext' is not loaded\n");
        exit(2);
    }
}

$orders = envInt('DEMO_ORDERS', 50, 1, 10000);
$workers = envInt('DEMO_WORKERS', 8, 1, 64);
$seed = envInt('DEMO_SEED', random_int(1, 999999), 0, PHP_INT_MAX);
$redisUrl = getenv('REDIS_URL') ?: null;
$runId = bin2hex(random_bytes(4));
$tmp = sys_get_temp_dir() . "/monei-demo-$runId";
mkdir($tmp, 0700);

mt_srand($seed);
[$orderIds, $schedule, $stats] = buildSchedule($orders, $workers);

$store = SqliteStore::available() ? new SqliteStore("$tmp/magento.sqlite") : new FileStore("$tmp/store");

$options = ['key_prefix' => "demo:$runId:"];
if ($redisUrl !== null) {
    $options['redis_url'] = $redisUrl;
}
$lock = new ProcessingLock($options);
try {
    // Fail fast with a clear message; also opens a pooled connection in the
    // parent that the forked workers must not reuse (the extension tracks forks).
    $lock->isLocked('preflight', 'preflight');
} catch (ConcurrencyException $e) {
    fwrite(STDERR, 'demo: Redis is not usable: ' . $e->getMessage() . "\n");
    exit(2);
}

printf("monei_concurrency demo (seed %d)\n", $seed);
printf("  %d orders, %d deliveries (%d webhooks incl. duplicates/retries, %d redirects), %d worker processes\n",
    $orders, $stats['total'], $stats['webhook'], $stats['redirect'], $workers);
printf("  store: %s; redis: %s; key_prefix: %s\n\n", $store->describe(), $redisUrl ?? '(INI default)', $options['key_prefix']);

$results = [];
foreach (['naive' => null, 'locked' => $lock] as $mode => $modeLock) {
    $store->reset($orderIds);
    $results[$mode] = runMode($mode, $schedule, $workers, $store, $modeLock, "$tmp/$mode");
}
array_map('unlink', glob("$tmp/*/*") ?: []);
array_map('rmdir', glob("$tmp/*", GLOB_ONLYDIR) ?: []);
array_map('unlink', glob("$tmp/*") ?: []);
rmdir($tmp);

report($results, $orders);

$l = $results['locked'];
$ok = $l['duplicates'] === 0 && $l['uninvoiced'] === 0 && $l['errors'] === 0 && $l['crashed'] === 0;
if ($results['naive']['duplicates'] === 0) {
    echo "\nnote: the naive run happened not to race this time (try again or raise DEMO_ORDERS)\n";
}
echo $ok
    ? "\nOK: with the lock every order was invoiced exactly once.\n"
    : "\nFAIL: the protected run double-processed, missed orders or failed (see above).\n";
exit($ok ? 0 : 1);

// ---------------------------------------------------------------------------

function envInt(string $name, int $default, int $min, int $max): int
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        return $default;
    }
    if (!preg_match('/^\d+$/', $v) || (int) $v < $min || (int) $v > $max) {
        fwrite(STDERR, "demo: $name must be an integer between $min and $max\n");
        exit(2);
    }
    return (int) $v;
}

/**
 * Deliveries per worker, each at an offset (ms) from the common start.
 *
 * @return array{0: list<string>, 1: array<int, list<array>>, 2: array<string, int>}
 */
function buildSchedule(int $orders, int $workers): array
{
    $orderIds = [];
    $schedule = array_fill(0, $workers, []);
    $stats = ['total' => 0, 'webhook' => 0, 'redirect' => 0];
    for ($i = 0; $i < $orders; $i++) {
        $orderIds[] = $orderId = (string) (100000001 + $i);
        $paymentId = 'pay_' . bin2hex(pack('N', mt_rand()));
        $deliveries = [];
        $webhooks = mt_rand(3, 6);
        for ($k = 0; $k < $webhooks; $k++) {
            // The first three deliveries are duplicates that arrive together;
            // the rest are MONEI retries, some of them after the redirect.
            $late = $k >= 3;
            $deliveries[] = ['webhook', $late];
        }
        for ($k = mt_rand(1, 2); $k > 0; $k--) {
            $deliveries[] = ['redirect', false];
        }
        shuffle($deliveries);
        $pool = range(0, $workers - 1);
        shuffle($pool);
        foreach ($deliveries as $n => [$source, $late]) {
            $at = $i * SLOT_MS + ($late ? mt_rand(RETRY_MS[0], RETRY_MS[1]) : mt_rand(0, BURST_MS * 1000) / 1000);
            // Near-simultaneous deliveries go to different workers, as they
            // would to different PHP-FPM workers; retries to any worker.
            $w = $late ? mt_rand(0, $workers - 1) : $pool[$n % $workers];
            $schedule[$w][] = ['order' => $orderId, 'payment' => $paymentId, 'source' => $source, 'at' => $at];
            $stats['total']++;
            $stats[$source]++;
        }
    }
    foreach ($schedule as &$list) {
        usort($list, fn ($a, $b) => $a['at'] <=> $b['at']);
    }
    return [$orderIds, $schedule, $stats];
}

/** The simulated Magento payment handler: check, call the API, act. */
function handleDelivery(DemoStore $store, array $d, int $worker, ?Lease $lease): string
{
    $order = $store->loadOrder($d['order']);
    if ($order['state'] !== 'new') {
        return 'skipped';                  // already invoiced: nothing to do
    }
    usleep(mt_rand(1000, 3000));           // capture the payment at MONEI
    $written = $store->invoice($d['order'], $d['payment'], $d['source'], $worker, $lease?->token());
    return $written ? 'invoiced' : 'fenced';
}

function runMode(string $mode, array $schedule, int $workers, DemoStore $store, ?ProcessingLock $lock, string $dir): array
{
    mkdir($dir);
    // Everyone starts together, a moment after the forks.
    $start = hrtime(true) + 150_000_000;
    $pids = [];
    foreach ($schedule as $w => $jobs) {
        $pid = pcntl_fork();
        if ($pid === -1) {
            fwrite(STDERR, "demo: pcntl_fork failed\n");
            exit(2);
        }
        if ($pid === 0) {
            $code = 0;
            try {
                worker($w, $jobs, $store, $lock, $start, "$dir/worker-$w.json");
            } catch (Throwable $e) {
                fwrite(STDERR, "demo: worker $w: " . $e->getMessage() . "\n");
                $code = 1;
            }
            exit($code);
        }
        $pids[$pid] = $w;
    }
    $crashed = 0;
    while ($pids) {
        $pid = pcntl_wait($status);
        if ($pid <= 0) {
            break;
        }
        if (!pcntl_wifexited($status) || pcntl_wexitstatus($status) !== 0) {
            $crashed++;
        }
        unset($pids[$pid]);
    }
    $elapsedMs = (hrtime(true) - $start) / 1e6;

    $agg = ['invoiced' => 0, 'skipped' => 0, 'fenced' => 0, 'errors' => 0, 'waits' => [], 'handled' => 0];
    foreach (glob("$dir/worker-*.json") as $file) {
        $r = json_decode((string) file_get_contents($file), true);
        foreach (['invoiced', 'skipped', 'fenced', 'errors', 'handled'] as $k) {
            $agg[$k] += $r[$k];
        }
        array_push($agg['waits'], ...$r['waits']);
    }
    $counts = $store->invoiceCounts();
    $orders = count(array_unique(array_column(array_merge(...$schedule), 'order')));
    $agg['crashed'] = $crashed;
    $agg['elapsed_ms'] = $elapsedMs;
    $agg['invoices'] = array_sum($counts);
    $agg['double_orders'] = count(array_filter($counts, fn ($n) => $n > 1));
    $agg['duplicates'] = array_sum(array_map(fn ($n) => $n - 1, $counts));
    $agg['uninvoiced'] = $orders - count($counts);
    return $agg;
}

function worker(int $w, array $jobs, DemoStore $store, ?ProcessingLock $lock, int $start, string $out): void
{
    mt_srand(random_int(0, PHP_INT_MAX));
    $store->open();
    $r = ['invoiced' => 0, 'skipped' => 0, 'fenced' => 0, 'errors' => 0, 'handled' => 0, 'waits' => []];
    foreach ($jobs as $d) {
        $due = $start + (int) ($d['at'] * 1e6);
        $now = hrtime(true);
        if ($due > $now) {
            time_nanosleep(intdiv($due - $now, 1_000_000_000), ($due - $now) % 1_000_000_000);
        }
        try {
            if ($lock === null) {
                $outcome = handleDelivery($store, $d, $w, null);
            } else {
                $called = hrtime(true);
                $outcome = $lock->executeWithLock($d['order'], $d['payment'],
                    function (Lease $lease) use ($store, $d, $w, $called, &$r): string {
                        $r['waits'][] = (hrtime(true) - $called) / 1e6;
                        return handleDelivery($store, $d, $w, $lease);
                    });
            }
            $r[$outcome]++;
        } catch (Throwable $e) {
            fwrite(STDERR, sprintf("demo: worker %d, order %s: %s: %s\n", $w, $d['order'], $e::class, $e->getMessage()));
            $r['errors']++;
        }
        $r['handled']++;
    }
    file_put_contents($out, json_encode($r));
}

function percentile(array $sorted, float $p): float
{
    if (!$sorted) {
        return 0.0;
    }
    $i = (int) ceil($p / 100 * count($sorted)) - 1;
    return $sorted[max(0, min(count($sorted) - 1, $i))];
}

function report(array $results, int $orders): void
{
    $n = $results['naive'];
    $l = $results['locked'];
    $row = fn (string $label, string $a, string $b) => printf("  %-40s %-14s %s\n", $label, $a, $b);
    $row('', 'naive', 'ProcessingLock');
    $row('deliveries handled', (string) $n['handled'], (string) $l['handled']);
    $row('invoices created', (string) $n['invoices'], (string) $l['invoices']);
    $row('orders invoiced more than once', "{$n['double_orders']} / $orders", "{$l['double_orders']} / $orders");
    $row('duplicate invoices (double-processing)', (string) $n['duplicates'], (string) $l['duplicates']);
    $row('orders left without an invoice', (string) $n['uninvoiced'], (string) $l['uninvoiced']);
    $row('deliveries skipped (already invoiced)', (string) $n['skipped'], (string) $l['skipped']);
    $row('writes rejected by the fencing token', '-', (string) $l['fenced']);
    $row('errors / crashed workers', "{$n['errors']} / {$n['crashed']}", "{$l['errors']} / {$l['crashed']}");
    $row('wall time', sprintf('%.2f s', $n['elapsed_ms'] / 1000), sprintf('%.2f s', $l['elapsed_ms'] / 1000));

    $w = $l['waits'];
    sort($w);
    printf("\n  lock wait (executeWithLock() call -> callback start), %d acquisitions:\n", count($w));
    printf("    p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   max %.2f ms\n",
        percentile($w, 50), percentile($w, 90), percentile($w, 99), $w ? end($w) : 0.0);
}
