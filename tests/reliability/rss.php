<?php

declare(strict_types=1);

/*
 * RSS stays flat across 1,000,000 lock cycles in one PHP process.
 *
 *   php rss.php [--cycles 1000000] [--limit-kib 1024]
 *
 * Cycles (REDIS_URL from the INI): executeWithLock on a payment lock (most),
 * executeWithOrderLock, acquire()/release() of a Lease object, lock()/unlock(),
 * and a re-entrant nested executeWithLock, over a few hundred orders. VmRSS is
 * read after a 20,000-cycle warm-up (pool, watchdog, caches) and at the end;
 * growth must stay within the limit. The series is printed every 10 %.
 */

use Monei\Concurrency\Lease;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;

require __DIR__ . '/lib.php';

$opt = getopt('', ['cycles:', 'limit-kib:']);
$cycles = (int) ($opt['cycles'] ?? 1000000);
$limit = (int) ($opt['limit-kib'] ?? 1024);
$prefix = 'rss' . getmypid() . ':';
$pl = new ProcessingLock(['key_prefix' => $prefix]);
$om = new OrderLockManager(['key_prefix' => $prefix]);
$tokens = 0;

$cycle = function (int $i) use ($pl, $om, &$tokens): void {
    $order = (string) (100000000 + $i % 256);
    switch ($i % 10) {
        case 0:
            $om->executeWithOrderLock($order, function (Lease $l) use (&$tokens): void {
                $tokens += $l->token() & 1;
            });
            break;
        case 1:
            $lease = $pl->acquire($order, 'pay_rss', 1000, 5000);
            $lease->release();
            break;
        case 2:
            $om->lock($order, 1000);
            $om->unlock($order);
            break;
        case 3:
            $pl->executeWithLock($order, 'pay_rss', fn (Lease $outer) => $pl->executeWithLock($order, 'pay_rss',
                fn (Lease $inner) => $inner->token() === $outer->token()));
            break;
        default:
            $pl->executeWithLock($order, 'pay_rss', function (Lease $l) use (&$tokens): int {
                return $tokens += $l->token() & 1;
            });
    }
};

$warm = min(20000, intdiv($cycles, 10));
for ($i = 0; $i < $warm; $i++) {
    $cycle($i);
}
gc_collect_cycles();
$before = rel_rss_kib();
$series = [$before];
$t0 = microtime(true);
$step = intdiv($cycles, 10);
for ($i = 0; $i < $cycles; $i++) {
    $cycle($i);
    if (($i + 1) % $step === 0) {
        $series[] = rel_rss_kib();
    }
}
$wall = microtime(true) - $t0;
gc_collect_cycles();
$after = rel_rss_kib();
$growth = $after - $before;
$ok = $growth <= $limit && !$pl->isLocked('100000000', 'pay_rss');
rel_result('rss-1m-lock-cycles', $ok, sprintf('%d lock cycles in %.0f s (%.0f/s): VmRSS %d KiB -> %d KiB (%+d KiB, limit %d); every 10%%: %s KiB',
    $cycles, $wall, $cycles / $wall, $before, $after, $growth, $limit, implode(' ', $series)),
    $ok ? '' : "RSS grew by $growth KiB over $cycles cycles");
exit($ok ? 0 : 1);
