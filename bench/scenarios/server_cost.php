<?php
// Scenario 6: what a lock cycle costs the server. One process runs `cycles`
// uncontended cycles on distinct keys (empty callback) and reads the CPU time
// Redis and the MariaDB server used meanwhile (server_cpu_us()), nothing else
// running. Params: impl, cycles, round.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

$p = params();
$lock = make_lock($p['impl'], $p['port']);
$redis = phpredis($p['port']);
$cycles = (int) $p['cycles'];
$tag = "s{$p['round']}-" . getmypid() . '-';
$noop = static function (): void {};

for ($i = 0; $i < 300; $i++) {
    $lock->run("{$tag}w$i", $noop);
}
$before = server_cpu_us($redis);
$t = hrtime(true);
for ($i = 0; $i < $cycles; $i++) {
    $lock->run($tag . $i, $noop);
}
$wall = hrtime(true) - $t;
$after = server_cpu_us($redis);

emit([
    'cycles' => $cycles,
    'cycle_us' => $wall / $cycles / 1000,
    'redis_cpu_us' => ($after['redis'] - $before['redis']) / $cycles,
    'redis_commands_us' => ($after['redis_commands'] - $before['redis_commands']) / $cycles,
    'mariadb_cpu_us' => ($after['mariadb'] - $before['mariadb']) / $cycles,
]);
