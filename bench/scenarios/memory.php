<?php
// Scenario 4: VmRSS of one process before and after `cycles` lock cycles
// (after a warm-up), cycling over `orders` order ids so Redis does not fill
// up with per-order fencing counters. Params: impl, cycles, orders, warmup.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$lock = make_lock($p['impl'], $p['port']);
$orders = (int) $p['orders'];
$cycles = (int) $p['cycles'];
$n = 0;
$cb = static function () use (&$n): void { $n++; };
$tag = 'm-' . getmypid() . '-';

for ($i = 0; $i < (int) $p['warmup']; $i++) {
    $lock->run($tag . ($i % $orders), $cb);
}
gc_collect_cycles();
$before = rss_kib();
$phpBefore = memory_get_usage();
$samples = [[0, $before]];
$step = max(1, intdiv($cycles, 10));
$t = hrtime(true);
for ($i = 0; $i < $cycles; $i++) {
    $lock->run($tag . ($i % $orders), $cb);
    if (($i + 1) % $step === 0) {
        $samples[] = [$i + 1, rss_kib()];
    }
}
$elapsed = (hrtime(true) - $t) / 1e9;
gc_collect_cycles();
$after = rss_kib();
if ($n !== (int) $p['warmup'] + $cycles) {
    throw new RuntimeException("callback ran $n times");
}
emit([
    'cycles' => $cycles,
    'rss_before_kib' => $before,
    'rss_after_kib' => $after,
    'growth_kib' => $after - $before,
    'php_heap_growth_bytes' => memory_get_usage() - $phpBefore,
    'samples' => $samples,
    'seconds' => $elapsed,
    'cycle_us' => $elapsed / $cycles * 1e6,
]);
