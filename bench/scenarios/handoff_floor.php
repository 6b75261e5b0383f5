<?php
// Reference for scenario 2, no lock: the same processes pass a token around a
// ring with phpredis RPUSH -> BLPOP, each holding it for `work_ms` (usleep).
// One woken hand-off per cycle through Redis is the least any queue-based
// lock can do; its overhead per cycle is computed like scenario 2's.
// Params: procs, cycles, work_ms, round.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$procs = (int) $p['procs'];
$cycles = (int) $p['cycles'];
$workUs = (int) round($p['work_ms'] * 1000);
$tag = "ring{$p['round']}-" . getmypid();

$redis = phpredis($p['port']);
$pingBefore = ping_us($redis, 5, 200);
$barrier = new Barrier($p['port'], "$tag-barrier", $procs);

$results = fork_all($procs, function (int $idx) use ($p, $procs, $cycles, $workUs, $tag, $barrier) {
    $r = phpredis($p['port']);
    for ($i = 0; $i < 20; $i++) {
        $r->ping();
    }
    $barrier->wait(); // all connected and warmed up
    $start = hrtime(true);
    if ($idx === 0) {
        $r->rPush("$tag:0", (string) hrtime(true));
    }
    $gaps = [];
    $waits = []; // from passing the token on to getting it back: a lock's wait
    $sent = null;
    $work = 0;
    for ($i = 0; $i < $cycles; $i++) {
        $v = $r->blPop(["$tag:$idx"], 30);
        $t1 = hrtime(true);
        if (!$v) {
            throw new RuntimeException('token lost');
        }
        $gaps[] = $t1 - (int) $v[1];
        if ($sent !== null) {
            $waits[] = $t1 - $sent;
        }
        usleep($workUs);
        $t2 = hrtime(true);
        $work += $t2 - $t1;
        if ($idx !== $procs - 1 || $i !== $cycles - 1) {
            $sent = hrtime(true);
            $r->rPush("$tag:" . (($idx + 1) % $procs), (string) $sent);
        }
    }
    $end = hrtime(true);
    $barrier->wait(); // stay off the CPU until the others are done too
    return ['gaps' => $gaps, 'waits' => $waits, 'work' => $work, 'start' => $start, 'end' => $end];
});

$pingAfter = ping_us($redis, 5, 200);
$n = $procs * $cycles;
$wall = max(array_column($results, 'end')) - min(array_column($results, 'start'));
$work = array_sum(array_column($results, 'work'));
$gaps = array_merge(...array_column($results, 'gaps'));
$waits = array_merge(...array_column($results, 'waits'));
emit([
    'cycles' => $n,
    'overhead_us' => ($wall - $work) / $n / 1000,
    'gap_p50_us' => percentile($gaps, 50) / 1000,
    'gap_p99_us' => percentile($gaps, 99) / 1000,
    'gap_max_us' => max($gaps) / 1000,
    'ping_us' => ($pingBefore + $pingAfter) / 2,
    'waits_ms' => array_map(fn($w) => round($w / 1e6, 4), $waits),
]);
