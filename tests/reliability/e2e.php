<?php

declare(strict_types=1);

/*
 * End to end under PHP-FPM + nginx, with faults injected while load runs.
 *
 *   php tests/reliability/e2e.php --dir <tmp dir> [--only baseline,request-end,...,scrape]
 *
 * Needs the extension loaded in this CLI too (it checks the locks and the
 * payment states directly). Each scenario has its own run id, hence its own
 * Redis key prefix and SQLite file. One result line per check (lib.php).
 */

use Monei\Concurrency\E2e\Driver;
use Monei\Concurrency\E2e\Stack;
use Monei\Concurrency\E2e\Workload;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\ProcessingLock;

require __DIR__ . '/lib.php';
require dirname(__DIR__) . '/e2e/Stack.php';
require dirname(__DIR__) . '/e2e/Driver.php';
require dirname(__DIR__) . '/e2e/app/schema.php';

const WORKERS = 8;
const IO_TIMEOUT_MS = 500;

$opt = getopt('', ['dir:', 'only:', 'payments:', 'webhooks:', 'seed:']);
$dir = $opt['dir'] ?? sys_get_temp_dir() . '/monei-e2e-' . getmypid();
$only = isset($opt['only']) ? explode(',', $opt['only']) : null;
$seed = (int) ($opt['seed'] ?? random_int(1, 1 << 30));
$ext = dirname(__DIR__, 2) . '/target/release/libmonei_concurrency.so';
if (!extension_loaded('monei_concurrency')) {
    fwrite(STDERR, "e2e.php: the extension must be loaded in this CLI\n");
    exit(2);
}

$stack = new Stack($dir, $ext);
$parentPid = getmypid();
register_shutdown_function(function () use ($stack, $parentPid): void {
    if (getmypid() === $parentPid) {
        $stack->stopAll();
    }
});
foreach ([SIGINT, SIGTERM] as $sig) {
    pcntl_signal($sig, function () {
        exit(130);
    });
}
pcntl_async_signals(true);

rel_say("e2e: starting redis, php-fpm (static, " . WORKERS . " workers) and nginx under $dir (seed $seed)");
$stack->startRedis();
$stack->startFpm(WORKERS);
$stack->startNginx();
rel_say("e2e: redis {$stack->redisUrl()}, nginx {$stack->baseUrl()} -> unix:$dir/fpm.sock, fpm master pid {$stack->pid('fpm')}");

function want(?array $only, string $name): bool
{
    return $only === null || in_array($name, $only, true);
}

function new_run(Stack $stack, string $run): void
{
    $db = new PDO("sqlite:{$stack->dir}/data/$run.sqlite");
    $db->exec('PRAGMA journal_mode = WAL');
    e2e_schema($db);
}

function lock_for(Stack $stack, string $run): ProcessingLock
{
    return new ProcessingLock(['redis_url' => $stack->redisUrl(), 'key_prefix' => "e2e:$run:",
        'io_timeout_ms' => IO_TIMEOUT_MS, 'connect_timeout_ms' => IO_TIMEOUT_MS]);
}

/** Runs the load in a forked child; returns a function that waits for it and returns its log. */
function load_in_background(Stack $stack, Workload $w, float $rate, float $deadlineS = 90): Closure
{
    $file = "{$stack->dir}/load-{$w->run}.ser";
    $pid = pcntl_fork();
    if ($pid === 0) {
        $d = new Driver($w, $stack->baseUrl(), 32, $rate, $deadlineS);
        $d->run();
        file_put_contents($file, serialize(['log' => $d->log, 'started' => $d->started, 'finished' => $d->finished,
            'undelivered' => $d->undelivered]));
        // Leave without running the parent's shutdown functions (they stop the stack).
        posix_kill(getmypid(), SIGKILL);
    }
    return function () use ($pid, $file): array {
        pcntl_waitpid($pid, $status);
        $r = @unserialize((string) @file_get_contents($file));
        if (!is_array($r)) {
            throw new RuntimeException('the load process died without reporting');
        }
        return $r;
    };
}

/** Runs the load in this process. */
function load_now(Stack $stack, Workload $w, float $rate = 0, float $deadlineS = 120): array
{
    $d = new Driver($w, $stack->baseUrl(), 32, $rate, $deadlineS);
    $d->run();
    return ['log' => $d->log, 'started' => $d->started, 'finished' => $d->finished, 'undelivered' => $d->undelivered];
}

/**
 * Checks what the load left behind: every payment captured exactly once,
 * final states = furthest status delivered, no 5xx unless $faulty (then only
 * the app's clean 503), every request answered. Returns [problems, figures].
 */
function check_load(Stack $stack, Workload $w, array $r, bool $faulty): array
{
    $problems = [];
    $log = $r['log'];
    $wall = $r['finished'] - $r['started'];
    $codes = [];
    $dup = 0;
    $n409 = 0;
    $n503 = 0;
    $unclean5xx = [];
    $noAnswer = 0;
    $lat = [];
    foreach ($log as $e) {
        $codes[$e['code']] = ($codes[$e['code']] ?? 0) + 1;
        $lat[] = ($e['end'] - $e['start']) * 1000;
        if ($e['code'] === 0) {
            $noAnswer++;
        }
        if ($e['kind'] === 'webhook' && !$e['forged'] && $e['code'] === 403) {
            $problems[] = 'a correctly signed webhook was refused with 403';
        }
        if ($e['kind'] === 'webhook' && $e['forged'] && $e['code'] >= 200 && $e['code'] < 300) {
            $problems[] = 'a forged webhook was accepted';
        }
        if ($e['code'] === 409) {
            $n409++;
        }
        if ($e['code'] >= 500) {
            if ($e['code'] === 503 && $e['error'] === 'backend_unavailable') {
                $n503++;
            } else {
                $unclean5xx[] = "{$e['code']} " . json_encode($e['error']);
            }
        }
        if ($e['kind'] === 'webhook' && $e['duplicate'] === true && $e['code'] === 200) {
            $dup++;
        }
    }
    if ($noAnswer > 0) {
        $problems[] = "$noAnswer requests got no HTTP answer (timeout or connection error)";
    }
    if ($unclean5xx !== []) {
        $problems[] = count($unclean5xx) . ' 5xx other than the clean 503: ' . implode(', ', array_slice(array_unique($unclean5xx), 0, 5));
    }
    if (!$faulty && $n503 > 0) {
        $problems[] = "$n503 x 503 without a fault injected";
    }
    if ($r['undelivered'] !== []) {
        $problems[] = count($r['undelivered']) . ' deliveries never succeeded before the deadline';
    }
    // Captures, counted per payment (no unique constraint hides a second one).
    $db = new PDO("sqlite:{$stack->dir}/data/{$w->run}.sqlite");
    $db->exec('PRAGMA busy_timeout = 10000');
    $count = [];
    foreach ($db->query('SELECT payment_id, COUNT(*) FROM captures GROUP BY payment_id') as [$pay, $n]) {
        $count[$pay] = (int) $n;
    }
    $double = $missing = 0;
    foreach (array_keys($w->payments) as $pay) {
        $n = $count[$pay] ?? 0;
        $double += $n > 1 ? 1 : 0;
        $missing += $n === 0 ? 1 : 0;
    }
    if ($double > 0) {
        $problems[] = "$double payments captured more than once";
    }
    if ($missing > 0) {
        $problems[] = "$missing payments never captured";
    }
    // once(): how often each (payment, status) callback really ran.
    $runs = [];
    foreach ($db->query('SELECT payment_id, status, COUNT(*) FROM webhook_runs GROUP BY payment_id, status') as [$p, $s, $n]) {
        $runs["$p:$s"] = (int) $n;
    }
    $rerun = 0;
    $neverRan = 0;
    foreach ($w->payments as $pay => $p) {
        foreach ($p['events'] as $st) {
            $n = $runs["$pay:$st"] ?? 0;
            $rerun += max(0, $n - 1);
            $neverRan += $n === 0 ? 1 : 0;
        }
    }
    if ($neverRan > 0) {
        $problems[] = "$neverRan webhook events were never processed";
    }
    if (!$faulty && $rerun > 0) {
        $problems[] = "$rerun once() callbacks ran a second time without a fault";
    }
    // Final states.
    $sm = new PaymentStateMachine(['redis_url' => $stack->redisUrl(), 'key_prefix' => "e2e:{$w->run}:"]);
    $wrong = [];
    foreach (array_keys($w->payments) as $pay) {
        $cur = $sm->current($pay);
        if ($cur !== $w->furthest($pay)) {
            $wrong[] = "$pay: $cur, expected " . $w->furthest($pay);
        }
    }
    if ($wrong !== []) {
        $problems[] = count($wrong) . ' payments in a wrong final state (' . implode('; ', array_slice($wrong, 0, 3)) . ')';
    }
    ksort($codes);
    $fig = [
        'requests' => count($log),
        'rps' => count($log) / max(0.001, $wall),
        'p50' => rel_pct($lat, 50),
        'p99' => rel_pct($lat, 99),
        'max' => $lat === [] ? 0 : max($lat),
        'dup' => $dup,
        '409' => $n409,
        '503' => $n503,
        'captured' => count($w->payments) - $missing,
        'double' => $double,
        'reruns' => $rerun,
        'payments' => count($w->payments),
        'wrong' => count($wrong),
        'codes' => $codes,
        'wall' => $wall,
    ];
    return [$problems, $fig];
}

function load_figures(array $f): string
{
    return sprintf('%d req in %.1fs (%.0f req/s), p50 %.1f ms, p99 %.1f ms; dups absorbed %d, 409s %d, 503s %d; captured %d/%d, double %d; once() re-runs %d; wrong final states %d',
        $f['requests'], $f['wall'], $f['rps'], $f['p50'], $f['p99'], $f['dup'], $f['409'], $f['503'], $f['captured'],
        $f['payments'], $f['double'], $f['reruns'], $f['wrong']);
}

function codes(array $f): string
{
    return implode(' ', array_map(fn ($c, $n) => "$c:$n", array_keys($f['codes']), $f['codes']));
}

/** A fault scenario's load: 60 payments, 600 webhooks + redirects at 120 req/s (about 6 s). */
function fault_load(string $run, int $seed): Workload
{
    return new Workload($run, 60, 600, $seed);
}

$failed = false;
$fpmMaster = $stack->pid('fpm');

// ---------------------------------------------------------------------------
if (want($only, 'baseline')) {
    $payments = (int) ($opt['payments'] ?? 200);
    $webhooks = (int) ($opt['webhooks'] ?? 2000);
    $w = new Workload('base', $payments, $webhooks, $seed);
    new_run($stack, 'base');
    rel_say(sprintf('baseline: %d signed webhooks (%d events of %d payments, 3-10 deliveries each), %d forged, %d redirects; 32 in flight',
        $w->webhooks, $w->events, count($w->payments), $w->forged, $w->redirects));
    $r = load_now($stack, $w);
    [$problems, $f] = check_load($stack, $w, $r, false);
    rel_say('baseline: status codes ' . codes($f) . sprintf(', max latency %.0f ms', $f['max']));
    // Control: the same traffic shape with the capture done WITHOUT the lock
    // must produce double captures, or this test could not see one.
    $c = new Workload('naive', 60, 600, $seed + 100, 0.02, true);
    new_run($stack, 'naive');
    load_now($stack, $c);
    $db = new PDO("sqlite:{$stack->dir}/data/naive.sqlite");
    $doubles = (int) $db->query('SELECT COUNT(*) FROM (SELECT payment_id FROM captures GROUP BY payment_id HAVING COUNT(*) > 1)')->fetchColumn();
    $extra = (int) $db->query('SELECT COUNT(*) - COUNT(DISTINCT payment_id) FROM captures')->fetchColumn();
    if ($doubles === 0) {
        $problems[] = 'control run without the lock produced no double capture: the load does not make captures race';
    }
    $failed |= !rel_result('e2e-baseline', $problems === [], load_figures($f)
        . "; control run WITHOUT the lock: $doubles/60 payments captured more than once ($extra extra captures)", implode('; ', $problems));
}

// ---------------------------------------------------------------------------
if (want($only, 'request-end')) {
    $run = 'rend';
    new_run($stack, $run);
    $w = fault_load($run, $seed + 1);
    rel_say('request-end: exit(), E_USER_ERROR, undefined function, max_execution_time inside a locked callback (lease 30 s), under load');
    $wait = load_in_background($stack, $w, 120);
    usleep(500000);
    $pl = lock_for($stack, $run);
    $results = [];
    $problems = [];
    foreach (['exit', 'user_error', 'undefined', 'timeout'] as $mode) {
        for ($rep = 0; $rep < 3; $rep++) {
            $order = "900000$rep";
            $pay = "pay_end_{$mode}_$rep";
            $ch = curl_init($stack->baseUrl() . "/crash.php?run=$run&mode=$mode&order=$order&payment=$pay");
            curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 30, CURLOPT_HEADER => true,
                CURLOPT_NOPROXY => '*']);
            $raw = (string) curl_exec($ch);
            $tResp = microtime(true);
            $code = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
            $tries = 0;
            $tFree = null;
            while (microtime(true) - $tResp < 35) {
                $tries++;
                $lease = $pl->tryAcquire($order, $pay, 1000);
                if ($lease !== null) {
                    $tFree = microtime(true);
                    $lease->release();
                    break;
                }
                usleep(1000);
            }
            $took = $tFree === null ? INF : ($tFree - $tResp) * 1000;
            $results[$mode][] = $took;
            $expected = $mode === 'exit' ? 200 : 500;
            if (!str_contains($raw, 'X-Lease-Token:')) {
                $problems[] = "$mode: the callback did not run (HTTP $code)";
            }
            if ($code !== $expected) {
                $problems[] = "$mode: HTTP $code, expected $expected";
            }
            if ($took > 50) {
                $problems[] = sprintf('%s: lock free only %.1f ms after the response (%d tries)', $mode, $took, $tries);
            }
        }
    }
    $r = $wait();
    [$lp, $f] = check_load($stack, $w, $r, false);
    $problems = array_merge($problems, array_map(fn ($p) => "load: $p", $lp));
    $fig = implode(', ', array_map(fn ($m) => sprintf('%s max %.1f ms', $m, max($results[$m])), array_keys($results)))
        . ' (response -> tryAcquire ok, limit 50 ms); load ' . load_figures($f);
    $failed |= !rel_result('fault-request-end', $problems === [], $fig, implode('; ', $problems));
}

// ---------------------------------------------------------------------------
if (want($only, 'worker-kill')) {
    $run = 'wkill';
    new_run($stack, $run);
    $w = fault_load($run, $seed + 2);
    $ttl = 3000;
    rel_say("worker-kill: SIGKILL an FPM worker holding a lock with a $ttl ms lease, under load");
    $workersBefore = $stack->fpmWorkers();
    $wait = load_in_background($stack, $w, 120);
    usleep(1000000);
    $pl = lock_for($stack, $run);
    $problems = [];
    [$code, $body] = $stack->get("/hold.php?run=$run&order=9100000&payment=pay_hold&ttl=$ttl&sleep=30");
    $pid = is_array($body) ? (int) ($body['pid'] ?? 0) : 0;
    $info = $pl->inspect('9100000', 'pay_hold');
    $fig = '';
    if ($code !== 200 || $pid <= 0) {
        $problems[] = "hold.php answered $code " . json_encode($body);
    } elseif (($info['pid'] ?? null) !== $pid) {
        $problems[] = 'inspect() names pid ' . json_encode($info['pid'] ?? null) . ", the worker said $pid";
    } else {
        $tKill = microtime(true);
        posix_kill($pid, SIGKILL);
        $tFree = null;
        while (microtime(true) - $tKill < $ttl / 1000 + 10) {
            $lease = $pl->tryAcquire('9100000', 'pay_hold', 1000);
            if ($lease !== null) {
                $tFree = microtime(true);
                $lease->release();
                break;
            }
            usleep(2000);
        }
        if ($tFree === null) {
            $problems[] = 'the lock was still held 10 s after its lease should have run out';
        } else {
            $sinceAcquire = ($tFree - (float) $body['acquired_at']) * 1000;
            $sinceKill = ($tFree - $tKill) * 1000;
            $fig = sprintf('holder pid %d (inspect() agreed) killed %.0f ms after taking the lock; free %.0f ms after the kill, %.0f ms after acquire (ttl %d ms)',
                $pid, ($tKill - (float) $body['acquired_at']) * 1000, $sinceKill, $sinceAcquire, $ttl);
            if ($sinceAcquire > $ttl + 500) {
                $problems[] = sprintf('freed %.0f ms after acquire, more than ttl + 500 ms', $sinceAcquire);
            }
            if ($sinceAcquire < $ttl - 100) {
                $problems[] = sprintf('freed %.0f ms after acquire, before the ttl ran out: something else released it', $sinceAcquire);
            }
        }
    }
    $r = $wait();
    [$lp, $f] = check_load($stack, $w, $r, false);
    $problems = array_merge($problems, array_map(fn ($p) => "load: $p", $lp));
    $deadline = microtime(true) + 10;
    while (count($stack->fpmWorkers()) < WORKERS && microtime(true) < $deadline) {
        usleep(20000);
    }
    $after = $stack->fpmWorkers();
    if (count($after) !== WORKERS || in_array($pid, $after, true)) {
        $problems[] = 'FPM did not replace the killed worker: ' . json_encode($after);
    }
    $failed |= !rel_result('fault-worker-kill', $problems === [], $fig . '; load ' . load_figures($f), implode('; ', $problems));
}

// ---------------------------------------------------------------------------
if (want($only, 'redis-freeze')) {
    $run = 'freeze';
    new_run($stack, $run);
    $w = fault_load($run, $seed + 3);
    rel_say('redis-freeze: SIGSTOP redis for 3 s under load, then SIGCONT (io_timeout_ms = ' . IO_TIMEOUT_MS . ')');
    $wait = load_in_background($stack, $w, 120);
    usleep(2000000);
    $sm = new PaymentStateMachine(['redis_url' => $stack->redisUrl(), 'key_prefix' => "e2e:$run:",
        'io_timeout_ms' => IO_TIMEOUT_MS, 'connect_timeout_ms' => IO_TIMEOUT_MS]);
    $sm->current('cli-probe');   // a pooled connection for the first probe
    $tStop = microtime(true);
    $stack->signal('redis', SIGSTOP);
    // Probes while frozen: through FPM (status.php: one Redis command, the
    // app reports how long that call took to fail) from a child, and the
    // same call from this CLI (io_timeout_ms = 500 too), sequentially.
    $probeFile = "{$stack->dir}/freeze-probes.ser";
    $child = pcntl_fork();
    if ($child === 0) {
        $probes = [];
        while (microtime(true) - $tStop < 2.6) {
            [$code, $body, $dt] = $stack->get("/status.php?run=$run", 15);
            $probes[] = [$code, is_array($body) ? ($body['failed_call']['ms'] ?? null) : null, $dt * 1000,
                is_array($body) ? ($body['ms'] ?? null) : null];
            usleep(200000);
        }
        file_put_contents($probeFile, serialize($probes));
        posix_kill(getmypid(), SIGKILL);
    }
    $cli = [];
    while (microtime(true) - $tStop < 2.4) {
        $t = microtime(true);
        try {
            $sm->current('cli-probe');
            $cli[] = ['ok', (microtime(true) - $t) * 1000];
        } catch (\Monei\Concurrency\BackendUnavailableException $e) {
            $cli[] = ['503', (microtime(true) - $t) * 1000];
        }
    }
    pcntl_waitpid($child, $st);
    $probes = (array) @unserialize((string) @file_get_contents($probeFile));
    $elapsed = microtime(true) - $tStop;
    if ($elapsed < 3.0) {
        usleep((int) ((3.0 - $elapsed) * 1e6));
    }
    $tCont = microtime(true);
    $stack->signal('redis', SIGCONT);
    $r = $wait();
    [$problems, $f] = check_load($stack, $w, $r, true);
    // Requests that were in flight at any moment of the freeze.
    $during = array_filter($r['log'], fn ($e) => $e['end'] >= $tStop && $e['start'] <= $tCont);
    $latDuring = array_map(fn ($e) => ($e['end'] - $e['start']) * 1000, $during);
    $appDuring = array_filter(array_column($during, 'app_ms'), 'is_numeric');
    $failedCalls = [];
    foreach ($r['log'] as $e) {
        if ($e['code'] === 503 && is_array($e['failed_call'])) {
            $failedCalls[] = $e['failed_call'];
        }
    }
    $margin = 300;
    $fpmMs = array_filter(array_column($probes, 1), 'is_numeric');
    $fpm503 = count(array_filter($probes, fn ($p) => $p[0] === 503));
    if ($probes === [] || $fpm503 !== count($probes) || count($fpmMs) !== count($probes)) {
        $problems[] = 'FPM probes during the freeze: ' . json_encode($probes) . ' (expected all 503 with the failed call timed)';
    }
    $cliMs = array_column(array_filter($cli, fn ($c) => $c[0] === '503'), 1);
    if ($cli === [] || count($cliMs) !== count($cli)) {
        $problems[] = 'CLI probes during the freeze: ' . json_encode($cli) . ' (expected all to fail)';
    }
    // The first CLI probe runs on the pooled connection; the later ones (and
    // most FPM probes) must open a new connection to the frozen server.
    $pooledMs = $cliMs[0] ?? INF;
    $freshMs = array_merge(array_slice($cliMs, 1), $fpmMs);
    $maxCall = max($pooledMs, $freshMs === [] ? 0 : max($freshMs));
    $minCall = min($pooledMs, $freshMs === [] ? INF : min($freshMs));
    if ($pooledMs > IO_TIMEOUT_MS + $margin || $pooledMs < IO_TIMEOUT_MS - 50) {
        $problems[] = sprintf('a call on a pooled connection failed after %.0f ms, not io_timeout_ms (+%d ms)', $pooledMs, $margin);
    }
    $callProblems = [];
    if ($maxCall > IO_TIMEOUT_MS + $margin) {
        $callProblems[] = sprintf('EXTENSION: a single Redis call took %.0f ms to fail (io_timeout_ms %d, connect_timeout_ms %d, limit io_timeout_ms + %d ms). '
            . 'Calls that must open a new connection wait 2 x connect_timeout_ms: redis-rs sends CLIENT SETINFO LIB-NAME/LIB-VER on connect '
            . 'and reads each reply with the connect timeout (core/src/pool.rs Endpoint::open -> get_connection_with_timeout)',
            $maxCall, IO_TIMEOUT_MS, IO_TIMEOUT_MS, $margin);
    }
    if ($minCall < IO_TIMEOUT_MS - 50) {
        $callProblems[] = sprintf('a single Redis call failed after %.0f ms, before io_timeout_ms', $minCall);
    }
    $maxDuring = $latDuring === [] ? 0 : max($latDuring);
    $maxApp = $appDuring === [] ? 0 : max($appDuring);
    // Inside PHP a request may wait for a lock (lock_wait_ms 3000) or a
    // duplicate (2000) and then hit a few io timeouts; it must never wait for
    // the freeze itself to end. (End-to-end latency also includes queueing
    // for a free FPM worker, which the frozen requests keep busy.)
    $appBound = 3000 + 4 * IO_TIMEOUT_MS + 1000;
    if ($maxApp > $appBound) {
        $problems[] = sprintf('a request in flight during the freeze spent %.0f ms in PHP (bound %d ms)', $maxApp, $appBound);
    }
    $byCall = [];
    foreach ($failedCalls as $fc) {
        $byCall[$fc['call']] = max($byCall[$fc['call']] ?? 0, $fc['ms']);
    }
    ksort($byCall);
    $fig = sprintf('%d requests in flight during the 3 s freeze all answered: max %.0f ms in PHP (bound %d), %.0f ms end to end incl. queueing for a worker; slowest failing API call per kind: %s; load %s',
        count($during), $maxApp, $appBound, $maxDuring,
        implode(', ', array_map(fn ($k, $v) => sprintf('%s %.0f ms', $k, $v), array_keys($byCall), $byCall)),
        load_figures($f));
    $callFig = sprintf('one Redis command while frozen: on the pooled connection %.0f ms, later probes (mostly new connections) %.0f-%.0f ms (%d FPM + %d CLI probes; io_timeout_ms %d, connect_timeout_ms %d, limit io_timeout_ms + %d)',
        $pooledMs, $freshMs === [] ? 0 : min($freshMs), $freshMs === [] ? 0 : max($freshMs), count($probes), count($cli),
        IO_TIMEOUT_MS, IO_TIMEOUT_MS, $margin);
    $failed |= !rel_result('freeze-call-timeout', $callProblems === [], $callFig, implode('; ', $callProblems));
    $failed |= !rel_result('fault-redis-freeze', $problems === [], $fig, implode('; ', $problems));
}

// ---------------------------------------------------------------------------
if (want($only, 'redis-kill')) {
    $run = 'rkill';
    new_run($stack, $run);
    $w = fault_load($run, $seed + 4);
    rel_say('redis-kill: SIGKILL redis under load, restart it on the same port 1.5 s later (FPM keeps running)');
    $wait = load_in_background($stack, $w, 120);
    usleep(2000000);
    $tKill = microtime(true);
    $stack->signal('redis', SIGKILL);
    usleep(1500000);
    $stack->startRedis();
    $tUp = microtime(true);
    $r = $wait();
    [$problems, $f] = check_load($stack, $w, $r, true);
    $firstOk = null;
    $down503 = 0;
    foreach ($r['log'] as $e) {
        if ($e['code'] >= 200 && $e['code'] < 300 && $e['end'] >= $tUp && ($firstOk === null || $e['end'] < $firstOk)) {
            $firstOk = $e['end'];
        }
        if ($e['code'] === 503 && $e['end'] >= $tKill && $e['start'] <= $tUp) {
            $down503++;
        }
    }
    if ($f['503'] === 0) {
        $problems[] = 'no request saw the outage (expected clean 503s)';
    }
    if ($firstOk === null) {
        $problems[] = 'no request succeeded after the restart';
    }
    if ($stack->pid('fpm') !== $fpmMaster || !$stack->running('fpm')) {
        $problems[] = 'php-fpm was restarted';
    }
    $fig = sprintf('outage %.2f s: %d clean 503s (%d during the outage), first success %.0f ms after redis was back, FPM master %d not restarted; load %s',
        $tUp - $tKill, $f['503'], $down503, $firstOk === null ? -1 : ($firstOk - $tUp) * 1000, $fpmMaster, load_figures($f));
    $failed |= !rel_result('fault-redis-kill', $problems === [], $fig, implode('; ', $problems));
}

// ---------------------------------------------------------------------------
if (want($only, 'recycle')) {
    $run = 'recycle';
    new_run($stack, $run);
    rel_say('recycle: php-fpm restarted with pm.max_requests = 50; Redis CLIENT LIST sampled during the load');
    $stack->signal('fpm', SIGQUIT);
    $stack->startFpm(WORKERS, 50);
    $stack->redis('CONFIG', 'RESETSTAT');
    $w = new Workload($run, 200, 2000, $seed + 5);
    $wait = load_in_background($stack, $w, 0);
    $sampler = new \Monei\Concurrency\Tests\Support\Resp('127.0.0.1', $stack->redisPort);
    $samples = [];
    $childDone = false;
    $pidFile = null;
    $t0 = microtime(true);
    // Sample until the load child has finished writing its result.
    while (microtime(true) - $t0 < 120) {
        $list = (string) $sampler->command('CLIENT', 'LIST');
        $samples[] = substr_count(trim($list), "\n") + 1 - 1;   // minus this sampler
        if (is_file("{$stack->dir}/load-$run.ser")) {
            break;
        }
        usleep(20000);
    }
    $r = $wait();
    [$problems, $f] = check_load($stack, $w, $r, false);
    $info = (string) $stack->redis('INFO', 'stats');
    preg_match('/total_connections_received:(\d+)/', $info, $m);
    $received = (int) ($m[1] ?? 0);
    $pids = count(array_unique(array_filter(array_column($r['log'], 'pid'))));
    $bound = 2 * WORKERS + 4;
    $max = $samples === [] ? -1 : max($samples);
    if ($max > $bound) {
        $problems[] = "up to $max Redis clients, more than 2 x workers + 4 = $bound";
    }
    if ($pids < WORKERS + 8) {
        $problems[] = "only $pids distinct worker pids answered: were workers recycled?";
    }
    $last = array_slice($samples, -5);
    $fig = sprintf('%d samples of CLIENT LIST: max %d, last %s (bound %d = 2 x %d workers + 4); %d worker processes served the load, %d connections opened in all; load %s',
        count($samples), $max, implode('/', $last), $bound, WORKERS, $pids, $received, load_figures($f));
    $failed |= !rel_result('fault-max-requests', $problems === [], $fig, implode('; ', $problems));
}

// ---------------------------------------------------------------------------
if (want($only, 'scrape')) {
    $run = 'scrape';
    new_run($stack, $run);
    $maxRequests = 20;
    rel_say("scrape: php-fpm restarted with pm.max_requests = $maxRequests; Prometheus scrapes php/metrics/metrics.php "
        . 'through nginx (contrib/nginx snippet) every 1 s while the load runs');
    $problems = [];
    $stack->signal('fpm', SIGQUIT);
    $stack->startFpm(WORKERS, $maxRequests);
    $path = '/monei-concurrency/metrics';
    // The allow-list of the shipped nginx snippet and the script's own answers.
    $ch = curl_init($stack->baseUrl() . $path);
    curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 10, CURLOPT_NOPROXY => '*']);
    $body = (string) curl_exec($ch);
    $allowed = [(int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE), (string) curl_getinfo($ch, CURLINFO_CONTENT_TYPE)];
    $denied = $stack->get($path, 10, [CURLOPT_INTERFACE => '127.0.0.2'])[0];
    $post = $stack->get($path, 10, [CURLOPT_CUSTOMREQUEST => 'POST', CURLOPT_POSTFIELDS => 'x'])[0];
    if ($allowed !== [200, 'text/plain; version=0.0.4; charset=utf-8'] || !str_contains($body, 'monei_concurrency_acquired_total ')) {
        $problems[] = 'GET from 127.0.0.1 answered ' . json_encode($allowed) . ': ' . substr($body, 0, 200);
    }
    if ($denied !== 403) {
        $problems[] = "GET from 127.0.0.2 (not in the allow-list) answered $denied, expected 403";
    }
    if ($post !== 405) {
        $problems[] = "POST answered $post, expected 405";
    }
    $failed |= !rel_result('metrics-endpoint', $problems === [], sprintf(
        'nginx + FPM, contrib/nginx snippet: GET from 127.0.0.1 -> %d (%s), from 127.0.0.2 -> %d, POST -> %d',
        $allowed[0], $allowed[1], $denied, $post), implode('; ', $problems));

    $problems = [];
    $stack->startPrometheus($path, [dirname(__DIR__, 2) . '/contrib/prometheus/alerts.yml']);
    $w = new Workload($run, 120, 1200, $seed + 6);
    $tStart = microtime(true);
    $r = load_now($stack, $w, 150);
    $tEnd = microtime(true);
    [$lp, $f] = check_load($stack, $w, $r, false);
    $problems = array_merge($problems, array_map(fn ($p) => "load: $p", $lp));
    // What the load did, counted by the app itself.
    $db = new PDO("sqlite:{$stack->dir}/data/$run.sqlite");
    $holds = (int) $db->query('SELECT COUNT(*) FROM lock_holds')->fetchColumn();
    $holdPids = (int) $db->query('SELECT COUNT(DISTINCT pid) FROM lock_holds')->fetchColumn();
    $onceRan = (int) $db->query('SELECT COUNT(*) FROM webhook_runs')->fetchColumn();
    $pids = count(array_unique(array_filter(array_column($r['log'], 'pid'))));
    // A scrape that started after the last response.
    $last = null;
    $deadline = microtime(true) + 15;
    while (microtime(true) < $deadline) {
        $ts = $stack->promQuery('timestamp(monei_concurrency_acquired_total)');
        if ($ts !== [] && $ts[0][1] > $tEnd + 0.05) {
            $last = $ts[0][1];
            break;
        }
        usleep(200000);
    }
    $window = (int) ceil(microtime(true) - $tStart) + 2;
    $one = fn (string $q) => ($v = $stack->promQuery($q)) === [] ? null : $v[0][1];
    $scraped = $last === null ? null : $one('monei_concurrency_acquired_total');
    $scrapedMisses = $last === null ? null : $one('monei_concurrency_idempotency_misses_total');
    $resets = $one("resets(monei_concurrency_acquired_total[{$window}s])");
    $samples = $one("count_over_time(monei_concurrency_acquired_total[{$window}s])");
    $upMin = $one("min_over_time(up{job=\"monei_concurrency\"}[{$window}s])");
    $scrapes = $one("count_over_time(up{job=\"monei_concurrency\"}[{$window}s])");
    $slowest = $one("max_over_time(scrape_duration_seconds{job=\"monei_concurrency\"}[{$window}s])");
    [, $rules] = $stack->prometheusApi('/api/v1/rules');
    $ruleHealth = [];
    $firing = [];
    foreach ($rules['data']['groups'] ?? [] as $g) {
        foreach ($g['rules'] as $rule) {
            $ruleHealth[$rule['health']] = ($ruleHealth[$rule['health']] ?? 0) + 1;
            foreach ($rule['alerts'] ?? [] as $a) {
                if ($a['state'] === 'firing') {
                    $firing[] = $rule['name'];
                }
            }
        }
    }
    if ($last === null) {
        $problems[] = 'Prometheus did not scrape the endpoint after the load ended (15 s)';
    } elseif ($scraped !== (float) $holds) {
        $problems[] = sprintf('Prometheus scraped monei_concurrency_acquired_total = %s, the load made %d lock acquisitions '
            . '(rows in lock_holds, from %d worker pids): the counters are not pool-wide (each scrape shows the worker that answered it)',
            json_encode($scraped), $holds, $holdPids);
    }
    if ($last !== null && $scrapedMisses !== (float) $onceRan) {
        $problems[] = sprintf('scraped idempotency_misses_total = %s, once() callbacks that ran = %d', json_encode($scrapedMisses), $onceRan);
    }
    if ($resets !== 0.0) {
        $problems[] = sprintf('resets(monei_concurrency_acquired_total) over the run = %s: the pool total went down (worker recycling reset it?)', json_encode($resets));
    }
    if ($pids <= WORKERS) {
        $problems[] = "only $pids distinct worker pids served the load: pm.max_requests = $maxRequests did not recycle workers";
    }
    if (($samples ?? 0) < ($tEnd - $tStart) / 2) {
        $problems[] = 'only ' . json_encode($samples) . ' scrapes during the run';
    }
    if ($upMin !== 1.0) {
        $problems[] = 'up was ' . json_encode($upMin) . ' at some scrape';
    }
    if (array_keys($ruleHealth) !== ['ok']) {
        $problems[] = 'alert rules of contrib/prometheus/alerts.yml not all healthy: ' . json_encode($ruleHealth);
    }
    if ($firing !== []) {
        $problems[] = 'alerts firing after a clean run: ' . implode(', ', $firing);
    }
    $fig = sprintf('Prometheus (1 s interval: %s scrapes, %s samples, slowest %.0f ms, in %d s): acquired_total %s vs %d acquisitions counted by the app (%d worker pids held locks, %d served the load, pm.max_requests %d); idempotency_misses_total %s vs %d once() runs; resets() %s; alerts.yml rules %s, firing: %s; load %s',
        json_encode($scrapes), json_encode($samples), ($slowest ?? 0) * 1000, $window, json_encode($scraped), $holds, $holdPids, $pids, $maxRequests, json_encode($scrapedMisses), $onceRan,
        json_encode($resets), json_encode($ruleHealth), $firing === [] ? 'none' : implode(',', $firing), load_figures($f));
    $failed |= !rel_result('prometheus-scrape', $problems === [], $fig, implode('; ', $problems));
}

$stack->stopAll();
exit($failed ? 1 : 0);
