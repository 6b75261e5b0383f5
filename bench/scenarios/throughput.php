<?php
// Scenario 5: `procs` processes run lock cycles on distinct keys (empty
// callback) for `seconds`; total cycles per second, and the CPU time Redis and
// the MariaDB server used per cycle meanwhile, and the processes' own.
// Params: impl, procs, seconds, round.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$redis = phpredis($p['port']);
$cpuBefore = server_cpu_us($redis);
$procs = (int) $p['procs'];
$start = hrtime(true) + 300_000_000 + $procs * 20_000_000;
$stop = $start + (int) round($p['seconds'] * 1e9);

$results = fork_all($procs, function (int $idx) use ($p, $start, $stop) {
    $lock = make_lock($p['impl'], $p['port']);
    $noop = static function (): void {};
    $tag = "t{$p['round']}-{$idx}-" . getmypid() . '-';
    for ($i = 0; $i < 50; $i++) {
        $lock->run("{$tag}w$i", $noop);
    }
    sleep_until($start);
    $cpu = own_cpu_us();
    $n = 0;
    do {
        $lock->run($tag . $n, $noop);
        $n++;
    } while (hrtime(true) < $stop);
    return ['cycles' => $n, 'end' => hrtime(true), 'cpu_us' => own_cpu_us() - $cpu];
});
$cpuAfter = server_cpu_us($redis);

$total = array_sum(array_column($results, 'cycles'));
$end = max(array_column($results, 'end'));
// Server CPU per cycle: warm-up cycles and connecting included.
$all = $total + 50 * $procs;
emit(['cycles' => $total, 'per_s' => $total / (($end - $start) / 1e9),
    'redis_cpu_us' => ($cpuAfter['redis'] - $cpuBefore['redis']) / $all,
    'mariadb_cpu_us' => ($cpuAfter['mariadb'] - $cpuBefore['mariadb']) / $all,
    // The processes' own CPU time per measured cycle.
    'client_cpu_us' => array_sum(array_column($results, 'cpu_us')) / $total]);
