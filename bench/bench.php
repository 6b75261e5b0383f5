<?php
// Runs every bench scenario for the extension and the anchors, checks the
// speed targets, prints the results table and writes bench/results.md plus
// the wait-time data that bench/wait-times.gp plots.
//
// Started by bench/run.sh with BENCH_REDIS_PORT (a private redis-server),
// BENCH_MARIADB_SOCKET (a private MariaDB server), BENCH_EXT (the built
// extension) and BENCH_DATA (a scratch directory).
// BENCH_QUICK=1 shrinks every scenario (for trying the bench out, not for figures).
// Exit status: 0 if every target passed, 1 if one failed, 2 on an error.

declare(strict_types=1);
require __DIR__ . '/lib/common.php';

$port = (int) getenv('BENCH_REDIS_PORT');
$ext = (string) getenv('BENCH_EXT');
$data = (string) getenv('BENCH_DATA');
$quick = getenv('BENCH_QUICK') === '1';
if (!$port || !is_file($ext) || !is_dir($data)) {
    fwrite(STDERR, "bench.php: run it through bench/run.sh\n");
    exit(2);
}

const NAMES = [
    'monei' => 'monei_concurrency',
    'handwritten' => 'hand-written phpredis',
    'symfony_phpredis' => 'symfony/lock+phpredis',
    'symfony_predis' => 'symfony/lock+Predis',
    'magento_db' => 'Magento DB lock: GET_LOCK',
    'magento_db_monei' => 'GET_LOCK + MONEI 500 ms poll',
    'magento_cache_monei' => 'Magento cache lock (GET, SET EX) + MONEI poll',
];

// Sizes. Scenario 1: ROUNDS processes per implementation, interleaved, that
// together run UNCONTENDED cycles.
$S = [
    'uncontended' => 20000, 'rounds' => 4, 'block' => 250,
    'contended_rounds' => 5,
    'idem_calls' => 4000, 'idem_rounds' => 3,
    'memory' => 1000000,
    'tp_procs' => [1, 2, 4, 8, 16], 'tp_seconds' => 1.5,
    'server_cycles' => 10000, 'server_rounds' => 3, 'busy_procs' => 8, 'busy_rounds' => 5, 'busy_cycles' => 4000,
    'storm_rounds' => 7, 'storm_payments' => 200, 'storm_webhooks' => 2000,
    'shm_rounds' => 8, 'shm_cycles' => 10000,
];
if ($quick) {
    $S = ['uncontended' => 2000, 'rounds' => 2, 'block' => 250, 'contended_rounds' => 1,
        'idem_calls' => 1000, 'idem_rounds' => 1, 'memory' => 20000,
        'tp_procs' => [1, 4], 'tp_seconds' => 0.5, 'shm_rounds' => 2, 'shm_cycles' => 1000,
        'server_cycles' => 2000, 'server_rounds' => 1, 'busy_rounds' => 1, 'busy_cycles' => 500,
        'storm_rounds' => 1] + $S;
}

$admin = phpredis($port);
// The CPUs to pin to (pin_servers()), 0 when there is only one.
$pinning = (int) trim((string) shell_exec('nproc'));
$pinning = $pinning >= 2 && trim((string) shell_exec('command -v taskset')) !== '' ? $pinning : 0;
$started = microtime(true);
$load = [sys_getloadavg()];

function say(string $msg): void
{
    fwrite(STDERR, sprintf("[%5.0fs] %s\n", microtime(true) - $GLOBALS['started'], $msg));
}

/**
 * Runs one scenario script in a fresh PHP process with the extension loaded;
 * with $pinned, on the first CPU while the servers run on the last one (see pin_servers()).
 */
function scenario(string $name, array $params, bool $pinned = false): array
{
    global $ext, $port, $admin, $pinning;
    $admin->flushAll();
    $params['port'] = $port;
    $ini = [];
    foreach ($params['ini'] ?? [] as $k => $v) {
        array_push($ini, '-d', "$k=$v");
    }
    unset($params['ini']);
    $cmd = [PHP_BINARY, '-d', "extension=$ext", '-d', 'memory_limit=1G', ...$ini,
        __DIR__ . "/scenarios/$name.php", json_encode($params)];
    if ($pinned && $pinning) {
        $cmd = ['taskset', '-c', '0', ...$cmd];
    }
    $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    $rc = proc_close($proc);
    $lines = array_filter(explode("\n", trim($out)));
    $result = $rc === 0 && $lines ? json_decode(end($lines), true) : null;
    if (!is_array($result)) {
        throw new RuntimeException("scenario $name " . json_encode($params) . " failed (exit $rc):\n$err$out");
    }
    return $result;
}

/**
 * The single-process scenarios (1, 3 and the one-process rows of 7) run with
 * Redis and MariaDB on the last CPU and the client on the first, so that every
 * round trip crosses CPUs, as it crosses the network in a store. Unpinned, the
 * scheduler sometimes runs a server on the client's own CPU, a switch far
 * cheaper than waking the other CPU, and which implementation gets that
 * changes from run to run: GET_LOCK's scenario-1 cycle once read 32 µs while
 * scenarios 5 and 7 of the same run measured it at 159-191 µs. The
 * multi-process scenarios run unpinned, on both CPUs.
 */
function pin_servers(bool $on): void
{
    global $admin, $pinning;
    if (!$pinning) {
        return;
    }
    $cpus = $on ? (string) ($pinning - 1) : '0-' . ($pinning - 1);
    foreach ([(int) $admin->info('server')['process_id'], mariadb_pid()] as $pid) {
        // -a: every thread, and the threads MariaDB starts for new connections inherit it.
        exec('taskset -apc ' . escapeshellarg($cpus) . " $pid 2>&1", $out, $rc);
        if ($rc !== 0) {
            throw new RuntimeException("taskset $cpus $pid failed: " . implode("\n", $out));
        }
    }
}

/** Implementations in a different order each round, so none always runs first or last. */
function rotation(int $round, array $impls = IMPLS): array
{
    $n = count($impls);
    return array_map(fn($i) => $impls[($i + $round) % $n], range(0, $n - 1));
}

// Scenario 1 also runs the extension with reply polling off (reply_spin_us = 0)
// and GET_LOCK over MariaDB's unix socket instead of loopback TCP.
const SCENARIO1 = [...IMPLS, 'monei_nospin', 'magento_db_socket'];

/**
 * Ratio of each measured block to the PING blocks on either side of it
 * (measured in the same process right before and after), one per block.
 */
function paired_ratios(array $blocks, array $pings, float $factor): array
{
    $r = [];
    foreach ($blocks as $i => $v) {
        $r[] = $v / ($factor * ($pings[$i] + $pings[$i + 1]) / 2);
    }
    return $r;
}

try {
    // Make sure everything loads before spending minutes.
    foreach (IMPLS as $impl) {
        scenario('uncontended', ['impl' => $impl, 'cycles' => 250, 'block' => 250, 'round' => -1]);
    }

    // 1. Uncontended cycles (one process: pinned, see pin_servers()).
    $unc = array_fill_keys(SCENARIO1, ['ping' => [], 'cycle' => [], 'ratio' => []]);
    $per = intdiv($S['uncontended'], $S['rounds']);
    pin_servers(true);
    for ($round = 0; $round < $S['rounds']; $round++) {
        foreach (rotation($round, SCENARIO1) as $impl) {
            say("uncontended: $impl, round " . ($round + 1) . "/{$S['rounds']}, $per cycles");
            $r = scenario('uncontended', ['impl' => $impl, 'cycles' => $per, 'block' => $S['block'], 'round' => $round], true);
            array_push($unc[$impl]['ping'], ...$r['ping_us']);
            array_push($unc[$impl]['cycle'], ...$r['cycle_us']);
            array_push($unc[$impl]['ratio'], ...paired_ratios($r['cycle_us'], $r['ping_us'], 2));
        }
    }
    pin_servers(false);

    // 2. Contended hand-off.
    $con = [];
    $floor = [];
    foreach (['8x1' => [8, 100, 1], '2x20' => [2, 50, 20]] as $label => [$procs, $cycles, $ms]) {
        $con[$label] = array_fill_keys(IMPLS, []);
        for ($round = 0; $round < $S['contended_rounds']; $round++) {
            foreach (rotation($round) as $impl) {
                say("contended $procs x $cycles x {$ms} ms: $impl, round " . ($round + 1) . "/{$S['contended_rounds']}");
                $r = scenario('contended', ['impl' => $impl, 'procs' => $procs, 'cycles' => $cycles,
                    'work_ms' => $ms, 'round' => $round]);
                if (($r['overlaps'] !== 0 && !in_array($impl, UNSAFE_IMPLS, true)) || $r['cycles'] !== $procs * $cycles) {
                    throw new RuntimeException("$impl broke mutual exclusion: {$r['overlaps']} overlapping holders");
                }
                $con[$label][$impl][] = $r;
            }
            say("contended $procs x $cycles x {$ms} ms: reference RPUSH/BLPOP ring, round " . ($round + 1));
            $floor[$label][] = scenario('handoff_floor', ['procs' => $procs, 'cycles' => $cycles,
                'work_ms' => $ms, 'round' => $round]);
            if ($label === '8x1') {
                say("contended $procs x $cycles x {$ms} ms: reference ring passing by a hand-off's Redis calls, round " . ($round + 1));
                $floor['8x1-calls'][] = scenario('handoff_floor', ['procs' => $procs, 'cycles' => $cycles,
                    'work_ms' => $ms, 'round' => $round, 'script' => 1]);
            }
        }
    }

    // 3. Idempotency (the extension only: none of the anchors has it). Pinned.
    $idem = ['ping' => [], 'new' => [], 'replay' => [], 'replay_ratio' => []];
    pin_servers(true);
    for ($round = 0; $round < $S['idem_rounds']; $round++) {
        say('idempotency: round ' . ($round + 1) . "/{$S['idem_rounds']}");
        $r = scenario('idempotency', ['calls' => intdiv($S['idem_calls'], $S['idem_rounds']),
            'block' => $S['block'], 'round' => $round], true);
        array_push($idem['ping'], ...$r['ping_us']);
        array_push($idem['new'], ...$r['new_us']);
        array_push($idem['replay'], ...$r['replay_us']);
        // Replay block i sits between PING blocks 2i+1 and 2i+2.
        foreach ($r['replay_us'] as $i => $v) {
            $idem['replay_ratio'][] = $v / (($r['ping_us'][2 * $i + 1] + $r['ping_us'][2 * $i + 2]) / 2);
        }
    }
    pin_servers(false);

    // 5. Throughput on distinct keys.
    $tp = [];
    foreach ($S['tp_procs'] as $i => $procs) {
        foreach (rotation($i) as $impl) {
            say("throughput: $impl, $procs process(es), {$S['tp_seconds']} s");
            $tp[$procs][$impl] = scenario('throughput', ['impl' => $impl, 'procs' => $procs,
                'seconds' => $S['tp_seconds'], 'round' => $i]);
        }
    }

    // 7. Server CPU per uncontended cycle, one process (pinned).
    pin_servers(true);
    $srv = array_fill_keys(IMPLS, []);
    for ($round = 0; $round < $S['server_rounds']; $round++) {
        foreach (rotation($round) as $impl) {
            say("server cost: $impl, round " . ($round + 1) . "/{$S['server_rounds']}, {$S['server_cycles']} cycles");
            $srv[$impl][] = scenario('uncontended', ['impl' => $impl, 'cycles' => $S['server_cycles'],
                'block' => $S['block'], 'round' => 100 + $round, 'server_cpu' => 1], true);
        }
    }
    pin_servers(false);

    // 7. The same with Redis busy (the target): 8 processes on distinct
    // orders, the extension and the hand-written lock one right after the
    // other in each round; and the extension's own scripts driven by
    // phpredis with the release before and after its short form.
    $busy = ['monei' => [], 'handwritten' => [], 'ratio' => []];
    $keys = ['full' => [], 'short' => [], 'handwritten' => []];
    for ($round = 0; $round < $S['busy_rounds']; $round++) {
        $one = [];
        foreach (rotation($round, ['monei', 'handwritten']) as $impl) {
            say("server cost, Redis busy: $impl, round " . ($round + 1) . "/{$S['busy_rounds']}");
            $one[$impl] = scenario('throughput', ['impl' => $impl, 'procs' => $S['busy_procs'],
                'seconds' => $S['tp_seconds'], 'round' => 200 + $round])['redis_cpu_us'];
            $busy[$impl][] = $one[$impl];
        }
        $busy['ratio'][] = $one['monei'] / $one['handwritten'];
        foreach (rotation($round, array_keys($keys)) as $v) {
            say("server cost of the release's keys: $v, round " . ($round + 1) . "/{$S['busy_rounds']}");
            $keys[$v][] = scenario('release_keys', ['variant' => $v, 'procs' => $S['busy_procs'],
                'cycles' => $S['busy_cycles'], 'round' => $round])['redis_cpu_us'];
        }
    }

    // 8. End to end: the FPM + nginx webhook storm, the app capturing under
    // the extension's lock, under GET_LOCK (with and without MONEI's poll in
    // the redirect), and without a lock (control). Its Redis runs with AOF
    // appendfsync everysec, as stores run it: GET_LOCK's locks live in
    // MariaDB's memory and survive nothing, so a Redis that flushed every
    // lock write to disk first would compare a durable lock with one that is
    // not. The reliability suite's appendfsync always is measured beside it.
    $storm = ['monei' => [], 'getlock' => [], 'getlock_poll' => [], 'none' => [],
        'monei_always' => [], 'getlock_always' => []];
    for ($round = 0; $round < $S['storm_rounds']; $round++) {
        foreach (rotation($round, array_keys($storm)) as $v) {
            say("webhook storm under PHP-FPM: $v, round " . ($round + 1) . "/{$S['storm_rounds']}");
            $always = str_ends_with($v, '_always');
            $storm[$v][] = scenario('storm', ['lock' => $always ? substr($v, 0, -7) : $v,
                'fsync' => $always ? 'always' : 'everysec', 'payments' => $S['storm_payments'],
                'webhooks' => $S['storm_webhooks'], 'seed' => 1000 + $round, 'round' => $round]);
        }
    }

    // 6. What the pool-wide figures cost: the same extension with its shared
    // metrics region and with per-process figures only (metrics_shm_bytes = 0),
    // one right after the other in each round, first one process alone and
    // then 8 processes adding to the same shared counters from both CPUs.
    // Measured as the client processes' CPU time per cycle, with reply
    // polling off so that it is the work done, not time spent polling for
    // a reply (wall time here is the Redis round trips, whose bimodal cost
    // hides a difference of a few nanoseconds).
    $shm = ['shared' => [], 'local' => []];
    $shmPairs = ['cycle' => [], 'tp' => []];
    $shmIni = ['shared' => [], 'local' => ['monei_concurrency.metrics_shm_bytes' => 0]];
    for ($round = 0; $round < $S['shm_rounds']; $round++) {
        $one = [];
        foreach (rotation($round, ['shared', 'local']) as $v) {
            say("metrics cost: $v figures, round " . ($round + 1) . "/{$S['shm_rounds']}");
            $u = scenario('uncontended', ['impl' => 'monei_nospin', 'cycles' => $S['shm_cycles'], 'block' => $S['block'],
                'round' => $round, 'ini' => $shmIni[$v]]);
            $t = scenario('throughput', ['impl' => 'monei_nospin', 'procs' => 8,
                'seconds' => $S['tp_seconds'], 'round' => $round, 'ini' => $shmIni[$v]]);
            $one[$v] = ['cycle_cpu' => $u['cpu_us'], 'cycle_wall' => median($u['cycle_us']),
                'tp_cpu' => $t['client_cpu_us'], 'tp' => $t['per_s']];
            $shm[$v][] = $one[$v];
        }
        $shmPairs['cycle'][] = $one['shared']['cycle_cpu'] / $one['local']['cycle_cpu'];
        $shmPairs['tp'][] = $one['shared']['tp_cpu'] / $one['local']['tp_cpu'];
    }
    // The adds alone, per process and with the region, 1 and 8 processes
    // adding without pause (CPU ns per cycle's worth of adds).
    say('metrics cost: the adds alone (core/examples/metrics_cost.rs)');
    $adds = json_decode((string) shell_exec(escapeshellarg((string) getenv('BENCH_METRICS_COST')) . ' 8 ' . ($quick ? 100 : 500)), true);
    if (!is_array($adds)) {
        throw new RuntimeException('metrics_cost failed');
    }

    // 4. Memory: last, it is the long one.
    say("memory: monei, {$S['memory']} cycles");
    $mem = scenario('memory', ['impl' => 'monei', 'cycles' => $S['memory'], 'orders' => 1000, 'warmup' => 10000]);
} catch (Throwable $e) {
    fwrite(STDERR, "bench failed: " . $e->getMessage() . "\n");
    exit(2);
}
$load[] = sys_getloadavg();

// ---------------------------------------------------------------- report

$rows = [];
$fails = 0;
$us = fn(float $v) => sprintf('%.0f µs', $v);
$ms = fn(float $v) => $v >= 100 ? sprintf('%.0f', $v) : sprintf('%.1f', $v);
$x = fn(float $v) => sprintf('%.2fx', $v);

/** Adds a row: $cells per implementation (missing = "—"), target text and verdict (null = no target). */
$row = function (string $label, array $cells, string $target = '', ?bool $pass = null) use (&$rows, &$fails) {
    $line = [$label];
    foreach (IMPLS as $impl) {
        $line[] = $cells[$impl] ?? '—';
    }
    $line[] = $target;
    $line[] = $pass === null ? '' : ($pass ? 'PASS' : 'FAIL');
    if ($pass === false) {
        $fails++;
    }
    $rows[] = $line;
};
$each = fn(callable $f) => array_combine(IMPLS, array_map($f, IMPLS));

// 1
$pingU = $each(fn($i) => median($unc[$i]['ping']));
$cycU = $each(fn($i) => median($unc[$i]['cycle']));
$ratioU = $each(fn($i) => median($unc[$i]['ratio']));
$row('phpredis PING round trip, measured alongside scenario 1', array_map($us, $pingU));
$row("1. uncontended cycle ({$S['uncontended']} per implementation)", array_map($us, $cycU));
$row('1. uncontended cycle / (2 x PING)', array_map($x, $ratioU), '≤ 1.15x', $ratioU['monei'] <= 1.15);
$speedup = $cycU['symfony_phpredis'] / $cycU['monei'];
$row('1. symfony/lock+phpredis cycle / monei cycle', ['monei' => $x($speedup)], '≥ 2.50x', $speedup >= 2.5);
$vsDb = $cycU['monei'] / $cycU['magento_db'];
$row('1. monei cycle / Magento DB lock (GET_LOCK) cycle', ['monei' => $x($vsDb)], '≤ 0.50x', $vsDb <= 0.5);
$sock = $unc['magento_db_socket'];
$row('1. for comparison, GET_LOCK over MariaDB\'s unix socket instead of loopback TCP: cycle, / (2 x PING)',
    ['magento_db' => sprintf('%s, %s', $us(median($sock['cycle'])), $x(median($sock['ratio'])))]);
$nospin = $unc['monei_nospin'];
$row('1. for comparison, monei_concurrency with reply polling off (reply_spin_us = 0): cycle, / (2 x PING), symfony/lock+phpredis cycle / it',
    ['monei' => sprintf('%s, %s, %s', $us(median($nospin['cycle'])), $x(median($nospin['ratio'])),
        $x($cycU['symfony_phpredis'] / median($nospin['cycle'])))]);

// 2
// The PING of the run, for scenario 2: the median of every PING block measured
// in scenarios 1 to 3. A loopback round trip on this kind of machine is
// bimodal (about 20 µs when the scheduler puts the pinging process on Redis'
// CPU, 65-90 µs when it has to wake the other CPU), and the few blocks
// measured around one scenario-2 run catch either mode by chance.
$allPings = [];
foreach (SCENARIO1 as $impl) {
    array_push($allPings, ...$unc[$impl]['ping']);
}
foreach ($con as $runsByImpl) {
    foreach ($runsByImpl as $runs) {
        array_push($allPings, ...array_column($runs, 'ping_us'));
    }
}
array_push($allPings, ...$idem['ping']);
$pingRun = median($allPings);
$cstat = function (string $label, string $impl) use ($con, $pingRun) {
    $runs = $con[$label][$impl];
    $waits = array_merge(...array_column($runs, 'waits_ms'));
    $maxes = array_map('max', array_column($runs, 'waits_ms'));
    return [
        'overhead' => median(array_column($runs, 'overhead_us')),
        'overhead_ratio' => median(array_column($runs, 'overhead_us')) / (2 * $pingRun),
        'ping' => median(array_column($runs, 'ping_us')),
        'work' => median(array_column($runs, 'work_per_cycle_ms')),
        'p50' => median(array_map(fn($w) => percentile($w, 50), array_column($runs, 'waits_ms'))),
        'p99' => median(array_map(fn($w) => percentile($w, 99), array_column($runs, 'waits_ms'))),
        'max' => median($maxes),
        'worst' => max($maxes),
        'overlaps' => array_sum(array_column($runs, 'overlaps')),
        'cycles' => array_sum(array_column($runs, 'cycles')),
        'all' => $waits,
    ];
};
$c8 = $each(fn($i) => $cstat('8x1', $i));
$c2 = $each(fn($i) => $cstat('2x20', $i));
$work8 = median(array_column($c8, 'work'));
$row(sprintf('phpredis PING round trip of the run: median of %d PING blocks of scenarios 1-3 (min %.0f, max %.0f µs)',
    count($allPings), min($allPings), max($allPings)), ['monei' => $us($pingRun)]);
$row(sprintf('2. 8 procs x 100 x 1 ms (work measured: %.2f ms): hand-off overhead per cycle', $work8),
    array_map(fn($c) => sprintf('%.0f µs = %.2f x 2 x PING (PING around these runs: %.0f µs)', $c['overhead'], $c['overhead_ratio'], $c['ping']), $c8),
    '≤ 1.00 x 2 x PING', $c8['monei']['overhead_ratio'] <= 1.0);
$fl = fn(string $label) => sprintf('%.0f µs = %.2f x 2 x PING (PING around these runs: %.0f µs)',
    median(array_column($floor[$label], 'overhead_us')),
    median(array_column($floor[$label], 'overhead_us')) / (2 * $pingRun),
    median(array_column($floor[$label], 'ping_us')));
$row('2. reference, no lock: the same 8 processes pass a token with phpredis RPUSH → BLPOP (one woken hand-off per cycle): overhead per cycle',
    ['monei' => $fl('8x1')]);
$row('2. reference, no lock: the same ring, the token passed by a phpredis EVALSHA making the Redis calls of a release that hands off (owner check, queue pop, time, fencing token, holder record and its expiry, wake-up push and its expiry): overhead per cycle',
    ['monei' => $fl('8x1-calls')]);
$waitCell = fn($c) => sprintf('%s / %s / %s ms', $ms($c['p50']), $ms($c['p99']), $ms($c['max']))
    . ($c['worst'] > $c['max'] ? sprintf(' (worst run %s)', $ms($c['worst'])) : '');
$row('2. 8 x 1 ms: wait p50 / p99 / max', array_map($waitCell, $c8), 'max ≤ 24 ms', $c8['monei']['max'] <= 24);
$fw = function (string $label) use ($floor, $waitCell) {
    $runs = array_column($floor[$label], 'waits_ms');
    $maxes = array_map('max', $runs);
    return $waitCell(['p50' => median(array_map(fn($w) => percentile($w, 50), $runs)),
        'p99' => median(array_map(fn($w) => percentile($w, 99), $runs)), 'max' => median($maxes), 'worst' => max($maxes)]);
};
$row('2. reference, no lock: RPUSH → BLPOP token ring, 8 x 1 ms: time from passing the token on to getting it back, p50 / p99 / max',
    ['monei' => $fw('8x1')]);
$overlapCell = fn($c) => sprintf('%d of %d', $c['overlaps'], $c['cycles']);
$row('2. 8 x 1 ms: holders that overlapped the previous holder (all runs)', array_map($overlapCell, $c8),
    '0 (monei)', $c8['monei']['overlaps'] === 0);
$waitVsPoll = $c8['monei']['max'] / $c8['magento_db_monei']['max'];
$row('2. 8 x 1 ms: max wait / GET_LOCK + MONEI poll max wait', ['monei' => sprintf('%.3fx', $waitVsPoll)], '≤ 0.10x', $waitVsPoll <= 0.1);
$row('2. 2 procs x 50 x 20 ms: wait p50 / p99 / max', array_map($waitCell, $c2), 'max ≤ 25 ms', $c2['monei']['max'] <= 25);
$row('2. 2 x 20 ms: holders that overlapped the previous holder (all runs)', array_map($overlapCell, $c2));
$row('2. 2 x 20 ms: hand-off overhead per cycle', array_map(fn($c) => sprintf('%.0f µs', $c['overhead']), $c2));
$row('2. reference, no lock: RPUSH → BLPOP token ring, 2 processes x 20 ms: overhead per cycle', ['monei' => $fl('2x20')]);
$row('2. reference, no lock: RPUSH → BLPOP token ring, 2 x 20 ms: time from passing the token on to getting it back, p50 / p99 / max',
    ['monei' => $fw('2x20')]);

// 3
$replayRatio = median($idem['replay_ratio']);
$row('phpredis PING round trip, measured alongside scenario 3', ['monei' => $us(median($idem['ping']))]);
$row('3. once() on a new key', ['monei' => $us(median($idem['new']))]);
$row('3. once() replay of a completed key', ['monei' => sprintf('%s = %.2f x PING', $us(median($idem['replay'])), $replayRatio)],
    '≤ 1.30 x PING', $replayRatio <= 1.3);

// 4
$row(sprintf('4. RSS growth over %s cycles (%d → %d KiB, %.0f µs/cycle)', number_format($mem['cycles']),
    $mem['rss_before_kib'], $mem['rss_after_kib'], $mem['cycle_us']),
    ['monei' => sprintf('%d KiB', $mem['growth_kib'])], '≤ 1024 KiB', $mem['growth_kib'] <= 1024);

// 5
foreach ($tp as $procs => $byImpl) {
    $row("5. throughput, $procs process" . ($procs > 1 ? 'es' : '') . ', distinct orders: cycles/s (server CPU per cycle: Redis, MariaDB for the GET_LOCK columns)',
        array_map(fn($i) => sprintf('%s (%.1f µs)', number_format($byImpl[$i]['per_s'], 0, '.', ','),
            $byImpl[$i][in_array($i, MARIADB_IMPLS, true) ? 'mariadb_cpu_us' : 'redis_cpu_us']), array_combine(IMPLS, IMPLS)));
}

// 6
$shmMed = fn(string $v, string $k) => median(array_column($shm[$v], $k));
// What the region adds per cycle, against the cycle it is part of: one
// process against scenario 1's uncontended cycle; 8 processes adding without
// pause (the worst case for cache lines shared between CPUs) against the
// client CPU per cycle of 8 processes cycling (the smaller denominator).
$added1 = ($adds['shared_1'] - $adds['local_1']) / 1000 / $cycU['monei'];
$added8 = ($adds['shared_n'] - $adds['local_n']) / 1000 / $shmMed('local', 'tp_cpu');
$row(sprintf('6. pool-wide metrics: CPU the adds of one cycle take, per process / with the shared region, 1 process; what the region adds, against the uncontended cycle (%s)',
    $us($cycU['monei'])), ['monei' => sprintf('%.0f / %.0f ns: +%.0f ns = %+.2f %%', $adds['local_1'], $adds['shared_1'],
    $adds['shared_1'] - $adds['local_1'], 100 * $added1)], '≤ +2 %', $added1 <= 0.02);
$row(sprintf('6. the same, 8 processes adding without pause to the same shared cache lines; against the client CPU per cycle of 8 processes cycling (%.1f µs)',
    $shmMed('local', 'tp_cpu')), ['monei' => sprintf('%.0f / %.0f ns: +%.0f ns = %+.2f %%', $adds['local_n'], $adds['shared_n'],
    $adds['shared_n'] - $adds['local_n'], 100 * $added8)], '≤ +2 %', $added8 <= 0.02);
$row(sprintf('6. end to end, one process: client CPU per uncontended cycle with the region, without; wall time likewise (reply polling off, %d rounds)',
    $S['shm_rounds']), ['monei' => sprintf('%.2f µs, %.2f µs: %+.1f %% (median of the rounds\' ratios); wall %s, %s',
    $shmMed('shared', 'cycle_cpu'), $shmMed('local', 'cycle_cpu'), 100 * (median($shmPairs['cycle']) - 1),
    $us($shmMed('shared', 'cycle_wall')), $us($shmMed('local', 'cycle_wall')))]);
$row(sprintf('6. end to end, 8 processes on distinct orders: client CPU per cycle with the region, without; cycles/s likewise (%d rounds)',
    $S['shm_rounds']), ['monei' => sprintf('%.2f µs, %.2f µs: %+.1f %%; %s, %s cycles/s',
    $shmMed('shared', 'tp_cpu'), $shmMed('local', 'tp_cpu'), 100 * (median($shmPairs['tp']) - 1),
    number_format($shmMed('shared', 'tp'), 0, '.', ','), number_format($shmMed('local', 'tp'), 0, '.', ','))]);

// 7
$srvMed = fn(string $k) => $each(fn($i) => median(array_column($srv[$i], $k)));
$redisCpu = $srvMed('redis_cpu_us');
$dbCpu = $srvMed('mariadb_cpu_us');
$cpuCell = fn(float $v) => sprintf('%.1f µs', $v);
$row(sprintf('7. uncontended cycle while measuring server CPU (%s cycles x %d runs, one process)',
    number_format($S['server_cycles']), $S['server_rounds']), array_map($us, $srvMed('cycle_us')));
$row('7. Redis CPU per uncontended cycle (INFO used_cpu_sys + used_cpu_user)', array_map($cpuCell, $redisCpu));
$row('7. MariaDB server CPU per uncontended cycle (/proc/<pid>/stat utime + stime)', array_map($cpuCell, $dbCpu));
$row('7. Redis CPU per cycle, one process (Redis mostly idle): monei / hand-written phpredis',
    ['monei' => $x($redisCpu['monei'] / $redisCpu['handwritten'])]);
$busyRatio = median($busy['ratio']);
$row(sprintf('7. Redis busy: Redis CPU per uncontended cycle, %d processes on distinct orders for %.1f s, the two one after the other in each of %d rounds (medians)',
    $S['busy_procs'], $S['tp_seconds'], $S['busy_rounds']), ['monei' => $cpuCell(median($busy['monei'])),
    'handwritten' => $cpuCell(median($busy['handwritten']))]);
$row('7. Redis busy: Redis CPU per cycle, monei / hand-written phpredis (median of the rounds\' ratios; each round)',
    ['monei' => $x($busyRatio) . ' (' . implode(', ', array_map($x, $busy['ratio'])) . ')'], '≤ 2.00x', $busyRatio <= 2.0);
$keyCell = fn(string $v) => sprintf('%s = %s of the hand-written lock', $cpuCell(median($keys[$v])),
    $x(median($keys[$v]) / median($keys['handwritten'])));
$row(sprintf('7. before / after: the extension\'s scripts driven by phpredis from %d processes (%s cycles each, %d rounds), Redis CPU per uncontended cycle with the release sent with all 20 keys (before) / without the 16 wake-up lists (after, what an uncontended release sends now); hand-written lock in the same rounds %s',
    $S['busy_procs'], number_format($S['busy_cycles']), $S['busy_rounds'], $cpuCell(median($keys['handwritten']))),
    ['monei' => sprintf('before %s; after %s; saved %s per cycle', $keyCell('full'), $keyCell('short'),
        $cpuCell(median($keys['full']) - median($keys['short'])))]);

// 8
$st = fn(string $lock, string $k) => median(array_column($storm[$lock], $k));
$stormCell = fn(string $lock) => sprintf('%s req/s, p50 %.1f ms, p99 %.1f ms; payments captured twice: %s (of %d)',
    number_format($st($lock, 'rps'), 0, '.', ','), $st($lock, 'p50_ms'), $st($lock, 'p99_ms'),
    implode(' / ', array_column($storm[$lock], 'double')), $storm[$lock][0]['payments']);
$row(sprintf('8. end to end: webhook storm under PHP-FPM (8 workers) + nginx, %d signed webhooks + redirects for %d payments, 32 in flight; medians of %d runs (captured twice: each run)',
    $S['storm_webhooks'], $S['storm_payments'], $S['storm_rounds']),
    ['monei' => $stormCell('monei'), 'magento_db' => $stormCell('getlock'), 'magento_db_monei' => $stormCell('getlock_poll')]);
$row('8. control: the same storm, captures without a lock', ['monei' => $stormCell('none')]);
$doubles = array_sum(array_column($storm['monei'], 'double'));
$row('8. payments captured twice with the extension (all runs)', ['monei' => (string) $doubles], '0', $doubles === 0);
// Requests/s of the extension over GET_LOCK's in the same round, for each round.
$rpsRatios = fn(string $suffix) => array_map(fn($a, $b) => $a['rps'] / $b['rps'], $storm["monei$suffix"], $storm["getlock$suffix"]);
$rpsRatio = median($rpsRatios(''));
$row('8. requests/s: extension / GET_LOCK (median of the rounds\' ratios; each round)',
    ['monei' => $x($rpsRatio) . ' (' . implode(', ', array_map($x, $rpsRatios(''))) . ')'], '≥ 1.00x', $rpsRatio >= 1.0);
$row('8. the same storm with Redis on appendfsync always (every write on disk before its reply, as in the reliability suite), extension and GET_LOCK: requests/s, p99; extension / GET_LOCK (median of the rounds\' ratios)',
    ['monei' => sprintf('%s req/s, p99 %.1f ms; %s', number_format($st('monei_always', 'rps'), 0, '.', ','),
        $st('monei_always', 'p99_ms'), $x(median($rpsRatios('_always')))),
     'magento_db' => sprintf('%s req/s, p99 %.1f ms', number_format($st('getlock_always', 'rps'), 0, '.', ','),
        $st('getlock_always', 'p99_ms'))]);

// Table.
$head = ['scenario', ...array_values(NAMES), 'target', 'PASS/FAIL'];
$md = '| ' . implode(' | ', $head) . " |\n|" . str_repeat(' --- |', count($head)) . "\n";
foreach ($rows as $r) {
    $md .= '| ' . implode(' | ', $r) . " |\n";
}
echo "\n", $md, "\n";
echo $fails ? "$fails target(s) FAILED\n" : "All targets PASS\n";

// results.md
$ver = fn(string $cmd) => trim((string) shell_exec($cmd . ' 2>/dev/null'));
$sfVersion = $ver("dpkg-query -W -f='\${Version}' php-symfony-lock");
// How an idle CPU waits decides what waking a sleeping process costs, and so
// the contended hand-off (see the README): under a hypervisor, a CPU that
// halts at once must be woken through it.
$idle = trim((string) @file_get_contents('/sys/devices/system/cpu/cpuidle/current_driver')) ?: 'unknown';
$haltPoll = @file_get_contents('/sys/module/haltpoll/parameters/guest_halt_poll_ns');
if ($haltPoll !== false) {
    $idle .= ', guest_halt_poll_ns ' . trim($haltPoll);
}
$env = sprintf("PHP %s, phpredis %s, Predis %s, symfony/lock %s, %s, MariaDB %s; %d CPUs (%s), kernel %s, CPU idle driver %s; %s; commit %s",
    PHP_VERSION, phpversion('redis'), Predis\Client::VERSION, $sfVersion,
    $ver('redis-server --version | cut -d" " -f1-3'),
    (new PDO('mysql:unix_socket=' . getenv('BENCH_MARIADB_SOCKET'), 'root', ''))->query('SELECT VERSION()')->fetchColumn(),
    (int) $ver('nproc'),
    $ver("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs"), php_uname('r'), $idle,
    $pinning ? sprintf('single-process scenarios pinned: servers on CPU %d, client on CPU 0', $pinning - 1)
        : 'nothing pinned (one CPU, or no taskset)',
    $ver('git -C ' . escapeshellarg(dirname(__DIR__)) . ' describe --always --dirty') ?: '?');
$report = "# Benchmark results\n\n"
    . "Written by `make bench` (bench/run.sh) on " . date('Y-m-d H:i T') . sprintf(", %.0f s.\n\n", microtime(true) - $started)
    . "$env. Load average (1/5/15 min) before: " . implode(' ', array_map(fn($v) => sprintf('%.2f', $v), $load[0]))
    . ', after: ' . implode(' ', array_map(fn($v) => sprintf('%.2f', $v), $load[1])) . ".\n"
    . ($quick ? "\n**BENCH_QUICK=1: reduced sizes, not representative.**\n" : '')
    . "\n$md\n"
    . ($fails ? "**$fails target(s) FAILED.**\n" : "All targets PASS.\n")
    . <<<'TXT'

How these are measured (one loopback redis-server started for the run, `save ''`, `appendonly no`; one MariaDB server started for the run by tests/tools/with-mariadb.sh, on loopback TCP and a unix socket):

- Every scenario runs in fresh PHP processes, Redis flushed in between; the implementations take turns in a different order each round.
- PING is phpredis `ping()` timed in the same process as what it is compared with: in scenarios 1 and 3 in blocks alternating with the measured blocks, each ratio taken against the PING blocks right before and after and then the median over blocks. Scenario 2 is compared with the PING of the run, the median of all those blocks and of the PINGs measured right before and after each scenario-2 run (shown in the cells): a loopback round trip here is bimodal (about 20 µs when the scheduler puts the pinging process on Redis' CPU, 65-90 µs when the other CPU has to be woken), and the few blocks around one run catch either mode by chance.
- Pinning: the single-process scenarios (1, 3 and the one-process rows of 7) run with Redis and MariaDB on the last CPU and the client process on CPU 0 (`taskset`), so every round trip crosses CPUs, as it crosses the network in a store; unpinned, the scheduler sometimes runs a server on the client's own CPU (a switch far cheaper than waking the other CPU), and which implementation gets that changes from run to run. The multi-process scenarios run unpinned on both CPUs.
- 1: blocks of 250 acquire+release cycles on distinct keys with an empty callback, over 4 processes per implementation (after 300 warm-up cycles each); µs figures are medians of block means. The extension runs with its defaults (`reply_spin_us` = 100: it polls the socket for a reply before sleeping) and, for comparison, with polling off.
- 2: the processes start together and take one key (they wait for each other asleep on a Redis barrier before the first cycle and after the last, so none spins on the CPU while waiting to start or serializes its results and exits while the others still measure); the work is `usleep()` and its measured time is the "ideal"; overhead = (wall − total work) / cycles, wait = from the lock call to the start of the callback. Five runs per implementation: overhead, p50, p99 and max are medians over the runs (the worst single run is shown when higher); every run checks that no two holders overlapped.
- 2, reference rows (figures in the first column): the same number of processes pass a token around a ring with phpredis `RPUSH` → `BLPOP` and no lock logic at all, holding it for the same work, measured the same way: what one woken hand-off through Redis per cycle costs on this machine. In the 8 x 1 ms scenario a second ring passes the token with an `EVALSHA` of a script that makes the same Redis calls as the extension's release when it hands the lock on (on keys of its own, popping a queue entry shaped like the lock's): what the lock's server-side work adds, without any of the extension's client code.
- 3: the extension only (none of the anchors has idempotency); a small array result.
- 4: the extension only; VmRSS after 10,000 warm-up cycles and after 1,000,000 more executeWithLock() cycles cycling over 1,000 orders.
- 5: every process loops on its own keys for 1.5 s; total cycles per second.
- 6: the extension with its default shared metrics region against the same build started with `monei_concurrency.metrics_shm_bytes=0` (figures per process, as before the region existed), one right after the other in fresh processes in each of 8 rounds (order alternating): scenario 1 with 10,000 cycles in one process, and scenario 5 with 8 processes whose adds all go to the same shared counters and histogram buckets (each on a cache line of its own). Measured as the client processes' CPU time per cycle (getrusage), with reply polling off so that it counts work rather than polling, and shown with wall time and cycles/s: these end-to-end rows carry no target, because their run-to-run spread (a few %) is far larger than what the region can add. The targets are on the adds themselves: `core/examples/metrics_cost.rs` runs the adds one lock cycle makes (a counter, a wait and a hold observation) in a tight loop, with per-process figures and with the region, in 1 process and in 8 at once (every process adding without pause to the same shared cache lines: the worst case), as CPU time; the difference is set against the uncontended cycle of scenario 1 and against the client CPU per cycle of the 8-process rows.
- 5, server CPU per cycle: the Redis (or, for the GET_LOCK columns, MariaDB) CPU time used during the run (below) divided by all its cycles, warm-up included.
- 7: one process, 10,000 uncontended cycles per run, nothing else running; before and after, Redis' `INFO cpu` (`used_cpu_sys` + `used_cpu_user`) and the MariaDB server's `utime` + `stime` from `/proc/<pid>/stat` (all threads; clock ticks of 10 ms, about 1 % of a run's figure). Medians of 3 runs. With one process Redis sleeps between round trips and much of its CPU time per cycle is waking up, which favours the implementation with the shorter cycle; `INFO commandstats` is not used, as it counts every command a script calls both on its own and inside the script's time.
- 7, Redis busy (the target row): 8 processes on distinct orders for 1.5 s, as in scenario 5, the extension and the hand-written lock one right after the other in each of 5 rounds (order alternating), Redis' `INFO cpu` divided by all cycles; the target is on the median of the rounds' ratios. Before / after: the same 8 processes run the extension's own `acquire.lua` and `release.lua` (read from core/src/scripts with their preludes) through phpredis `EVALSHA`, 4,000 uncontended cycles each per round, the release once with all 20 keys and once without the 16 wake-up lists, beside the hand-written lock, taking turns in each of the 5 rounds.
- 8: the webhook storm of `make reliability` (tests/e2e: php-fpm, static pool of 8 workers, behind nginx; a fresh stack per run, its Redis with AOF `appendfsync everysec` as stores run it, since GET_LOCK's locks live in MariaDB's memory and survive nothing; one row repeats the extension and GET_LOCK with the reliability suite's `appendfsync always`, every Redis write on disk before its reply): signed webhooks for each payment's statuses delivered 3-10 times, shuffled with stale ones, 2 % forged, and 1-2 redirect callbacks per payment, 32 requests in flight. Every request verifies, `once()`s and moves the state machine with the extension; only the capture lock is switched (tests/e2e/app/locks.php, the pool's `E2E_LOCK`): the extension's `executeWithLock()`, or MONEI's lock manager on Magento's database backend (GET_LOCK on the run's MariaDB over loopback TCP, one persistent connection per worker): in the "GET_LOCK" column every request waits inside `GET_LOCK`, in the "+ MONEI poll" column a redirect that finds the payment locked first polls `IS_USED_LOCK` every 500 ms, as MONEI's redirect controller does. The control run captures without a lock and must show double captures, or the storm could not detect one. Requests/s = answered requests / wall time of the storm; latency from sending to the answer; "captured twice" counts payments with more than one capture row (no unique constraint hides one). Medians over 7 runs, the variants taking turns; the requests/s target is on the median of each round's extension / GET_LOCK ratio.
- The anchors: symfony/lock 5.4 (`LockFactory` + `RedisStore`, blocking `acquire()`, `release()`) over phpredis and over Predis; a hand-written phpredis lock (`SET NX PX`, `EVALSHA` compare-and-delete, 2 ms `usleep` retry).
- The Magento anchors (bench/lib/magento.php, written from the documented behaviour): Magento's database lock backend, `SELECT GET_LOCK(name, timeout)` / `RELEASE_LOCK(name)` / `IS_USED_LOCK(name)` over PDO MySQL, one connection per process, the name prefixed and shortened to 64 characters, over loopback TCP like Redis (scenario 1 also over the unix socket). "Magento DB lock: GET_LOCK" is the backend called directly: `GET_LOCK` with a 5 s timeout (the wait happens inside the server), the work, `RELEASE_LOCK`: two queries per cycle. "GET_LOCK + MONEI 500 ms poll" is the same backend under MONEI's lock manager, as MONEI's payment code takes it: a caller that finds the payment locked (`IS_USED_LOCK`) polls `IS_USED_LOCK` every 500 ms (`waitForPaymentUnlock()`) before taking it with `GET_LOCK`, and the release calls `RELEASE_LOCK` while `IS_USED_LOCK` says the lock is held, at most 3 times: five queries per uncontended cycle (the cache lock under the same manager: five commands). "Magento cache lock" is Magento's cache backend on phpredis under the same manager: `GET` to check, `SET … EX 5` to take, `DEL` to release; nothing is atomic, so the overlap rows count the holders it let in while another still held the lock (the bench fails on an overlap of any other implementation).

TXT;
file_put_contents(__DIR__ . '/results.md', $report);

// Wait-time distributions of scenario 2 for gnuplot: sorted waits and the
// fraction of acquisitions that waited at least that long.
foreach (['8x1' => $c8, '2x20' => $c2] as $label => $stats) {
    foreach (IMPLS as $impl) {
        $w = $stats[$impl]['all'];
        sort($w);
        $n = count($w);
        $lines = '';
        foreach ($w as $k => $v) {
            $lines .= sprintf("%.4f %.6f\n", max($v, 0.001), ($n - $k) / $n);
        }
        file_put_contents("$data/waits-$label-$impl.dat", $lines);
    }
}
say('done');
exit($fails ? 1 : 0);
