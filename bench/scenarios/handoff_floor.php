<?php
// Reference for scenario 2, no lock: the same processes pass a token around a
// ring with phpredis RPUSH -> BLPOP, each holding it for `work_ms` (usleep).
// One woken hand-off per cycle through Redis is the least any queue-based
// lock can do; its overhead per cycle is computed like scenario 2's.
// With `script` set, the token is passed by an EVALSHA that makes the Redis
// calls of a release handing the lock on (release.lua's hand-off path, on keys
// of its own): what the lock's server-side work costs on top of the ring.
// Params: procs, cycles, work_ms, round, script (optional).
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

const HANDOFF_CALLS = <<<'LUA'
local holder = redis.call('HGET', KEYS[2], 'owner')
local entry = redis.call('LPOP', KEYS[3])
local t = redis.call('TIME')
local token = string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]))
redis.call('SET', KEYS[4], token, 'PX', 86400000, 'GET')
redis.call('HSET', KEYS[2], 'owner', ARGV[2], 'token', token, 'since', t[1], 'holder', entry or '')
redis.call('PEXPIRE', KEYS[2], 30000)
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], 30000)
return 1
LUA;

$p = params();
$procs = (int) $p['procs'];
$cycles = (int) $p['cycles'];
$workUs = (int) round($p['work_ms'] * 1000);
$tag = "ring{$p['round']}-" . getmypid();

$scripted = !empty($p['script']);
$redis = phpredis($p['port']);
if ($scripted) {
    // A queue entry for every hand-off to pop, shaped like the lock's.
    foreach (array_chunk(range(1, $procs * $cycles), 500) as $chunk) {
        $redis->rPush("$tag:q", ...array_map(fn($i) => "owner-$i|1763769600000|1000|host\t123\t/bench.php", $chunk));
    }
}
$pingBefore = ping_us($redis, 5, 200);
$barrier = new Barrier($p['port'], "$tag-barrier", $procs);

$results = fork_all($procs, function (int $idx) use ($p, $procs, $cycles, $workUs, $tag, $barrier, $scripted) {
    $r = phpredis($p['port']);
    $sha = $scripted ? $r->script('load', HANDOFF_CALLS) : '';
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
            $next = "$tag:" . (($idx + 1) % $procs);
            $sent = hrtime(true);
            if ($scripted) {
                $r->evalSha($sha, [$next, "$tag:lock", "$tag:q", "$tag:fence", (string) $sent, "owner-$idx"], 4);
            } else {
                $r->rPush($next, (string) $sent);
            }
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
