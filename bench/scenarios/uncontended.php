<?php
// Scenario 1: uncontended lock cycles on distinct keys, an empty callback.
// PING blocks and lock-cycle blocks alternate in this one process, so both
// see the same machine conditions; the driver takes medians of block means.
// Params: impl, cycles, block, round.
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

$ping = [];
$cycle = [];
for ($b = 0; $b < $blocks; $b++) {
    $ping[] = ping_block($redis, $block);
    $base = $b * $block;
    $t = hrtime(true);
    for ($i = 0; $i < $block; $i++) {
        $lock->run($tag . ($base + $i), $noop);
    }
    $cycle[] = (hrtime(true) - $t) / $block / 1000;
}
$ping[] = ping_block($redis, $block);

emit(['ping_us' => $ping, 'cycle_us' => $cycle]);
