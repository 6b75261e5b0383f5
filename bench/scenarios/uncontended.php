<?php
// Scenario 1: uncontended lock cycles on distinct keys, an empty callback.
// PING blocks and lock-cycle blocks alternate in this one process, so both
// see the same machine conditions; the driver takes medians of block means.
// Params: impl, cycles, block, round.
// Scenario 7, with `server_cpu` set: what a cycle costs the servers. The
// cycles run in one go, no PINGs, and the CPU time Redis and the MariaDB
// server used meanwhile (server_cpu_us()) is divided by them.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$lock = make_lock($p['impl'], $p['port']);
$redis = phpredis($p['port']);
$block = (int) $p['block'];
$blocks = intdiv((int) $p['cycles'], $block);
$tag = "u{$p['round']}-" . getmypid() . '-';
$noop = static function (): void {};

// Warm-up: connections, script caches, the extension's watchdog thread.
for ($i = 0; $i < 300; $i++) {
    $lock->run("{$tag}w$i", $noop);
    $redis->ping();
}

if (!empty($p['server_cpu'])) {
    $cycles = (int) $p['cycles'];
    $before = server_cpu_us($redis);
    $t = hrtime(true);
    for ($i = 0; $i < $cycles; $i++) {
        $lock->run($tag . $i, $noop);
    }
    $wall = hrtime(true) - $t;
    $after = server_cpu_us($redis);
    emit([
        'cycle_us' => $wall / $cycles / 1000,
        'redis_cpu_us' => ($after['redis'] - $before['redis']) / $cycles,
        'mariadb_cpu_us' => ($after['mariadb'] - $before['mariadb']) / $cycles,
    ]);
    exit(0);
}

$ping = [];
$cycle = [];
$cpu = 0.0;
for ($b = 0; $b < $blocks; $b++) {
    $ping[] = ping_block($redis, $block);
    $base = $b * $block;
    $c = own_cpu_us();
    $t = hrtime(true);
    for ($i = 0; $i < $block; $i++) {
        $lock->run($tag . ($base + $i), $noop);
    }
    $cycle[] = (hrtime(true) - $t) / $block / 1000;
    $cpu += own_cpu_us() - $c;
}
$ping[] = ping_block($redis, $block);

// cpu_us: this process's CPU time per cycle (the lock cycles only).
emit(['ping_us' => $ping, 'cycle_us' => $cycle, 'cpu_us' => $cpu / ($blocks * $block)]);
