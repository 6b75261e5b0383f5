<?php
// Scenario 3: IdempotencyStore::once() on a new key (claim, run, store) and on
// a completed key (replay of the stored result), in blocks alternating with
// PING blocks. Params: calls, block, round.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$store = new Monei\Concurrency\IdempotencyStore(['redis_url' => "redis://127.0.0.1:{$p['port']}"]);
$redis = phpredis($p['port']);
$block = (int) $p['block'];
$blocks = intdiv((int) $p['calls'], $block);
$tag = "i{$p['round']}-" . getmypid() . '-';
$result = ['status' => 'succeeded', 'order' => '100000123', 'amount' => 1999];
$cb = static fn() => $result;

for ($i = 0; $i < 300; $i++) {
    $store->once("{$tag}w$i", $cb);
    $store->once("{$tag}w$i", $cb);
    $redis->ping();
}

$ping = [];
$new = [];
$replay = [];
for ($b = 0; $b < $blocks; $b++) {
    $base = $b * $block;
    $ping[] = ping_block($redis, $block);
    $t = hrtime(true);
    for ($i = 0; $i < $block; $i++) {
        $store->once($tag . ($base + $i), $cb);
    }
    $new[] = (hrtime(true) - $t) / $block / 1000;
    $ping[] = ping_block($redis, $block);
    $t = hrtime(true);
    for ($i = 0; $i < $block; $i++) {
        $r = $store->once($tag . ($base + $i), $cb);
    }
    $replay[] = (hrtime(true) - $t) / $block / 1000;
    if ($r !== $result) {
        throw new RuntimeException('replay returned ' . var_export($r, true));
    }
}
$ping[] = ping_block($redis, $block);

emit(['ping_us' => $ping, 'new_us' => $new, 'replay_us' => $replay]);
