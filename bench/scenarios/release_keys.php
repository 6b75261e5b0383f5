<?php
// Scenario 7, before and after: what the extension's own lock scripts cost
// Redis per uncontended cycle with its release sent with all 20 keys (lock,
// queue, fence, forced record and the 16 wake-up lists, as every release was
// sent before the short form) and without the wake-up lists (the short form
// an uncontended release now takes). `procs` processes drive the scripts
// through phpredis on distinct orders, so that only the scripts differ;
// the hand-written lock is the anchor of the same round.
// Params: variant (full|short|handwritten), procs, cycles, round.
declare(strict_types=1);
require __DIR__ . '/../lib/common.php';

const SCRIPTS = __DIR__ . '/../../core/src/scripts';

/** The number of wake-up lists per lock, read from its one declaration. */
function wake_slots(): int
{
    $src = file_get_contents(__DIR__ . '/../../core/src/key.rs');
    if (!preg_match('/pub const WAKE_SLOTS: usize = (\d+);/', $src, $m)) {
        throw new RuntimeException('WAKE_SLOTS not found in core/src/key.rs');
    }
    return (int) $m[1];
}

/** A lock script with the preludes core/src/scripts.rs puts before it (with_slots!). */
function lock_script(string $file): string
{
    return file_get_contents(SCRIPTS . '/fence.lua') . file_get_contents(SCRIPTS . '/wake_slots.lua')
        . file_get_contents(SCRIPTS . "/$file");
}

$p = params();
$variant = (string) $p['variant'];
$procs = (int) $p['procs'];
$cycles = (int) $p['cycles'];
$redis = phpredis($p['port']);
$cpuBefore = server_cpu_us($redis);

fork_all($procs, function (int $idx) use ($p, $variant, $cycles) {
    $r = phpredis($p['port']);
    if ($variant === 'handwritten') {
        $lock = new HandWrittenLock($r);
        $noop = static function (): void {};
        for ($i = 0; $i < $cycles; $i++) {
            $lock->run("k{$p['round']}-$idx-$i", $noop);
        }
        return null;
    }
    $slots = wake_slots();
    $acquire = $r->script('load', lock_script('acquire.lua'));
    $release = $r->script('load', lock_script('release.lua'));
    $owner = bin2hex(random_bytes(8)) . '.';
    $holder = "bench-host\t" . getmypid() . "\t/bench/release_keys.php";
    for ($i = 0; $i < $cycles; $i++) {
        // Key names shaped like core/src/key.rs': <prefix>{<order>}:order:<part>
        $base = "bench:{r{$p['round']}-$idx-$i}:order";
        $lock = "$base:lock";
        $me = $owner . $i;
        $got = $r->evalSha($acquire, [$lock, "$base:q", "$base:fence", $lock, $me, 30000, 0, $holder, 1000, '',
            $slots], 4);
        $keys = [$lock, "$base:q", "$base:fence", $lock];
        if ($variant === 'full') {
            for ($w = 0; $w < $slots; $w++) {
                $keys[] = "$base:w:$w";
            }
        }
        $released = $r->evalSha($release, [...$keys, $me, ''], count($keys));
        if (!is_array($got) || $got[0] !== 1 || $released !== 1) {
            throw new RuntimeException("cycle $i: acquire " . json_encode($got) . ", release " . json_encode($released)
                . ': ' . $r->getLastError());
        }
    }
    return null;
});
$cpuAfter = server_cpu_us($redis);
emit(['redis_cpu_us' => ($cpuAfter['redis'] - $cpuBefore['redis']) / ($procs * $cycles)]);
