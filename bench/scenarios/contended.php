<?php
// Scenario 2: `procs` processes take the same lock `cycles` times each and
// hold it for `work_ms` (usleep: payment work waits on I/O). Records, per
// acquisition, how long it waited and how long the work really took, checks
// that no two holders overlapped, and measures PING right before and after.
// Params: impl, procs, cycles, work_ms, round.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$procs = (int) $p['procs'];
$cycles = (int) $p['cycles'];
$workUs = (int) round($p['work_ms'] * 1000);
$key = "c{$p['round']}-{$procs}x{$p['work_ms']}-" . getmypid();

$redis = phpredis($p['port']);
$pingBefore = ping_us($redis, 5, 200);
$barrier = new Barrier($p['port'], "$key-barrier", $procs);

$results = fork_all($procs, function (int $idx) use ($p, $cycles, $workUs, $key, $barrier) {
    $lock = make_lock($p['impl'], $p['port']);
    $noop = static function (): void {};
    for ($i = 0; $i < 20; $i++) {
        $lock->run("$key-warm-$idx-$i", $noop);
    }
    $barrier->wait(); // all connected and warmed up
    $start = hrtime(true);
    $waits = [];
    $spans = [];
    for ($i = 0; $i < $cycles; $i++) {
        $t0 = hrtime(true);
        $lock->run($key, function () use (&$waits, &$spans, $t0, $workUs) {
            $t1 = hrtime(true);
            usleep($workUs);
            $t2 = hrtime(true);
            $waits[] = $t1 - $t0;
            $spans[] = [$t1, $t2];
        });
    }
    $end = hrtime(true);
    $barrier->wait(); // stay off the CPU until the others are done too
    return ['waits' => $waits, 'spans' => $spans, 'start' => $start, 'end' => $end];
});

$pingAfter = ping_us($redis, 5, 200);

$waits = [];
$spans = [];
foreach ($results as $r) {
    array_push($waits, ...$r['waits']);
    array_push($spans, ...$r['spans']);
}
// Mutual exclusion: the work intervals, sorted by start, must not overlap.
usort($spans, fn($a, $b) => $a[0] <=> $b[0]);
$overlaps = 0;
$work = 0;
$gaps = []; // from one holder's work end to the next holder's work start
foreach ($spans as $i => [$s, $e]) {
    $work += $e - $s;
    if ($i > 0) {
        $gaps[] = ($s - $spans[$i - 1][1]) / 1000;
        if ($s < $spans[$i - 1][1]) {
            $overlaps++;
        }
    }
}
$n = count($spans);
$wall = max(array_column($results, 'end')) - min(array_column($results, 'start'));
emit([
    'cycles' => $n,
    'wall_ms' => $wall / 1e6,
    'work_ms' => $work / 1e6,
    'work_per_cycle_ms' => $work / $n / 1e6,
    'overhead_us' => ($wall - $work) / $n / 1000,
    'overlaps' => $overlaps,
    'gap_p50_us' => percentile($gaps, 50),
    'gap_p99_us' => percentile($gaps, 99),
    'gap_max_us' => max($gaps),
    'ping_us' => ($pingBefore + $pingAfter) / 2,
    'waits_ms' => array_map(fn($w) => round($w / 1e6, 4), $waits),
]);
