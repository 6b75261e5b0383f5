<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\IdempotencyMismatchException;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\Lease;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\OpsTestCase;
use Monei\Concurrency\Tests\Support\RedisServer;

use function Monei\Concurrency\metrics;
use function Monei\Concurrency\stats;

/**
 * stats() and metrics(): counters and wait/hold histograms, pool-wide (this
 * PHPUnit process and every child it forks add to one shared region) and per
 * process, checked by the change each operation makes to them (they count
 * since the process started, so earlier tests of this PHPUnit run are in
 * there too).
 */
final class OpsStatsTest extends OpsTestCase
{
    private const COUNTERS = ['acquired', 'reentered', 'contended', 'timeouts', 'lost_leases', 'watchdog_renewals', 'watchdog_panics',
        'backend_errors', 'forced_unlocks', 'idempotency_hits', 'idempotency_misses', 'idempotency_conflicts',
        'idempotency_claims_lost',
        'state_rejections', 'state_advances'];

    private array $before = [];

    /** Remembers this process's own figures (children forked by a test add only to the pool's). */
    private function mark(): void
    {
        $this->before = stats()['process'];
    }

    /**
     * Asserts how much each counter moved since mark(); counters not named must not have moved.
     *
     * @param array<string, int|callable(int): bool> $expected
     */
    private function assertMoved(array $expected, string $what): void
    {
        $now = stats()['process'];
        foreach (self::COUNTERS as $name) {
            $delta = $now[$name] - $this->before[$name];
            $want = $expected[$name] ?? 0;
            if (is_callable($want)) {
                self::assertTrue($want($delta), "$what: $name moved by $delta");
            } else {
                self::assertSame($want, $delta, "$what: $name");
            }
        }
        $this->before = $now;
    }

    public function testStatsHasEveryCounterAndBothHistograms(): void
    {
        $all = stats();
        self::assertSame(array_merge(self::COUNTERS, ['wait_seconds', 'hold_seconds', 'pool_wide', 'started_at', 'process']), array_keys($all));
        self::assertTrue($all['pool_wide'], 'the region is mapped at startup');
        self::assertIsFloat($all['started_at']);
        self::assertEqualsWithDelta(microtime(true), $all['started_at'], 3600, 'a Unix time, not long ago');
        self::assertLessThanOrEqual(microtime(true), $all['started_at']);
        self::assertSame(array_merge(self::COUNTERS, ['wait_seconds', 'hold_seconds']), array_keys($all['process']));
        foreach ([$all, $all['process']] as $s) {
            foreach (self::COUNTERS as $name) {
                self::assertIsInt($s[$name]);
                self::assertGreaterThanOrEqual(0, $s[$name]);
            }
            foreach (['wait_seconds', 'hold_seconds'] as $h) {
                self::assertSame(['buckets', 'sum', 'count'], array_keys($s[$h]));
                self::assertIsFloat($s[$h]['sum']);
                self::assertIsInt($s[$h]['count']);
            }
        }
        foreach (self::COUNTERS as $name) {
            self::assertGreaterThanOrEqual($all['process'][$name], $all[$name], "pool-wide $name includes this process's");
        }
    }

    public function testForkedChildrenCountIntoThePoolFiguresAndStartTheirOwnFromZero(): void
    {
        $pl = new ProcessingLock($this->options());
        $pl->executeWithLock('10', 'parent', fn () => null);
        $before = stats();
        $children = 4;
        $each = 25;
        $options = $this->options();
        $results = Forker::run(array_fill(0, $children, static function (int $i) use ($options, $each): array {
            $own = stats()['process'];
            $l = new ProcessingLock($options);
            for ($n = 0; $n < $each; $n++) {
                $l->executeWithLock("child-$i", "n$n", fn () => null);
            }
            return ['started_with' => $own['acquired'] + $own['wait_seconds']['count'], 'own' => stats()['process']['acquired']];
        }));
        $after = stats();
        foreach ($results as $i => $r) {
            self::assertSame(0, $r['started_with'], "child $i starts its own figures from zero");
            self::assertSame($each, $r['own'], "child $i counted its own");
        }
        self::assertSame($before['acquired'] + $children * $each, $after['acquired'], 'every child added to the pool');
        self::assertSame($before['wait_seconds']['count'] + $children * $each, $after['wait_seconds']['count']);
        self::assertSame($before['hold_seconds']['count'] + $children * $each, $after['hold_seconds']['count']);
        self::assertSame($before['process']['acquired'], $after['process']['acquired'], "this process's own figures did not move");
        self::assertSame($before['started_at'], $after['started_at']);
        self::assertStringContainsString(
            "\nmonei_concurrency_acquired_total {$after['acquired']}\n",
            metrics(),
            'metrics() shows the pool-wide total',
        );
    }

    /**
     * @return array{0: int, 1: string, 2: string} exit code, stdout, stderr of
     * a PHP process started with monei_concurrency.metrics_shm_bytes=$size
     */
    private static function phpWithRegionSize(string $size, string $code): array
    {
        return self::runPhp(['-d', "monei_concurrency.metrics_shm_bytes=$size", '-d', 'display_startup_errors=1', '-d', 'error_reporting=-1', '-r', $code]);
    }

    public function testARegionTooSmallOrNotANumberWarnsAtStartupAndCountsPerProcess(): void
    {
        $code = 'echo json_encode([Monei\Concurrency\stats()["pool_wide"], ini_get("monei_concurrency.metrics_shm_bytes"), ini_set("monei_concurrency.metrics_shm_bytes", "65536"), preg_match("/^monei_concurrency_metrics_pool_wide (\\d)$/m", Monei\Concurrency\metrics(), $m) ? $m[1] : null]);';
        foreach (['100' => 'cannot hold the metrics layout, which needs', 'lots' => 'must be a whole number between 0 and', '-1' => 'must be a whole number'] as $size => $why) {
            [$exit, $out, $err] = self::phpWithRegionSize((string) $size, $code);
            self::assertSame(0, $exit, "size $size: starts and runs; stderr: $err");
            self::assertStringContainsString('monei_concurrency.metrics_shm_bytes', $out . $err, "size $size: the warning names the setting");
            self::assertStringContainsString($why, $out . $err, "size $size: and says why");
            self::assertStringContainsString('count for each process on its own', $out . $err);
            self::assertStringEndsWith(json_encode([false, (string) $size, false, '0']), trim($out), "size $size: per process, not changeable at run time");
        }
        [$exit, $out, $err] = self::phpWithRegionSize('0', $code);
        self::assertSame([0, json_encode([false, '0', false, '0']), ''], [$exit, trim($out), $err], 'size 0: off, without a warning');
        [$exit, $out, $err] = self::phpWithRegionSize('16384', $code);
        self::assertSame([0, json_encode([true, '16384', false, '1']), ''], [$exit, trim($out), $err], 'the default: shared');
    }

    public function testLockCountersMoveAsExpected(): void
    {
        $pl = new ProcessingLock($this->options());
        $this->mark();

        $lease = $pl->acquire('1', 'a', 0, 10000);
        $this->assertMoved(['acquired' => 1], 'fresh acquisition');
        $inner = $pl->acquire('1', 'a', 0, 10000);
        $m = new OrderLockManager($this->options());
        self::assertTrue($m->lock('1', 0));
        self::assertTrue($m->lock('1', 0));
        $this->assertMoved(['acquired' => 1, 'reentered' => 2], 're-entries');
        self::assertTrue($inner->release());
        self::assertTrue($lease->release());
        self::assertTrue($m->unlock('1'));
        self::assertTrue($m->unlock('1'));
        $this->assertMoved([], 'releases');

        // Contention: held by another process.
        $this->holdInChild(static fn (array $o): array => ['lease' => (new ProcessingLock($o))->acquire('2', 'b')]);
        self::assertNull($pl->tryAcquire('2', 'b'));
        $this->assertMoved(['contended' => 1], 'tryAcquire() of a held lock');
        try {
            $pl->acquire('2', 'b', 100);
            self::fail('the lock is held elsewhere');
        } catch (LockTimeoutException) {
        }
        $this->assertMoved(['contended' => 1, 'timeouts' => 1], 'a wait that ran out');

        // Forced unlock: counted once, and not at all when nothing was held.
        self::assertTrue($pl->forceUnlock('2', 'b'));
        self::assertFalse($pl->forceUnlock('2', 'b'));
        $this->assertMoved(['forced_unlocks' => 1], 'forceUnlock');
        $this->releaseChild();

        // A lost lease: fixed ttl, not renewed, expired before release().
        $short = $pl->acquire('3', 'c', 0, 50);
        usleep(120000);
        self::assertFalse($short->release());
        $this->assertMoved(['acquired' => 1, 'lost_leases' => 1], 'an expired lease');
    }

    public function testWatchdogRenewalsAreCounted(): void
    {
        $pl = new ProcessingLock($this->options(['lock_ttl_ms' => 90]));
        $this->mark();
        $ttls = $pl->executeWithLock('4', 'd', function (Lease $l): array {
            $seen = [];
            for ($i = 0; $i < 8; $i++) {
                usleep(50000);
                $seen[] = $l->remainingMs();
            }
            return $seen;
        });
        // 400 ms held with a 90 ms lease renewed every ~30 ms.
        foreach ($ttls as $ttl) {
            self::assertGreaterThan(0, $ttl, 'the lease never ran out');
        }
        $this->assertMoved(['acquired' => 1, 'watchdog_renewals' => fn (int $d): bool => $d >= 4 && $d <= 40], 'a renewed 400 ms hold');
    }

    public function testBackendErrorsAreCounted(): void
    {
        $closed = new ProcessingLock(['redis_url' => 'redis://127.0.0.1:' . RedisServer::freePort(), 'key_prefix' => $this->prefix]);
        $this->mark();
        for ($i = 0; $i < 2; $i++) {
            try {
                $closed->acquire('5', 'e');
                self::fail('nothing listens there');
            } catch (BackendUnavailableException) {
            }
        }
        $this->assertMoved(['backend_errors' => 2], 'two calls to a closed port');
    }

    public function testIdempotencyAndStateMachineCounters(): void
    {
        $store = new IdempotencyStore($this->options());
        $this->mark();
        self::assertSame('r', $store->once('k1', fn () => 'r', 'fp'));
        $this->assertMoved(['idempotency_misses' => 1], 'first once()');
        self::assertSame('r', $store->once('k1', fn () => 'other', 'fp'));
        self::assertSame('r', $store->once('k1', fn () => 'other', 'fp'));
        $this->assertMoved(['idempotency_hits' => 2], 'replays');
        try {
            $store->once('k1', fn () => 'x', 'another fingerprint');
            self::fail('fingerprint mismatch');
        } catch (IdempotencyMismatchException) {
        }
        $this->assertMoved(['idempotency_conflicts' => 1], 'a mismatch');

        $sm = new PaymentStateMachine($this->options());
        self::assertTrue($sm->advance('pay_s', 'PENDING'));
        self::assertTrue($sm->advance('pay_s', 'SUCCEEDED'));
        $this->assertMoved(['state_advances' => 2], 'advances');
        self::assertFalse($sm->advance('pay_s', 'SUCCEEDED'));
        self::assertFalse($sm->advance('pay_s', 'PENDING'));
        self::assertFalse($sm->advance('pay_s', 'FAILED'));
        $this->assertMoved(['state_rejections' => 3], 'duplicate, stale and unreachable');
    }

    public function testHistogramsGrowCumulatively(): void
    {
        $pl = new ProcessingLock($this->options());
        $before = stats()['process'];
        for ($i = 0; $i < 3; $i++) {
            $pl->executeWithLock('6', 'f', fn () => usleep(30000));
        }
        // One wait of about 200 ms: queued behind another process.
        $this->holdInChild(
            static fn (array $o): array => ['lease' => (new ProcessingLock($o))->acquire('7', 'g')],
            static fn (array $s): bool => $s['lease']->release(),
        );
        $go = $this->tmp('child-go');
        $releaser = Forker::spawn(static function () use ($go): bool {
            usleep(200000);
            file_put_contents($go, '1');
            return true;
        });
        $t0 = microtime(true);
        $lease = $pl->acquire('7', 'g', 10000);
        $waited = microtime(true) - $t0;
        $lease->release();
        $releaser->wait(5);
        $this->releaseChild();
        $after = stats()['process'];

        foreach (['wait_seconds' => 4, 'hold_seconds' => 4] as $h => $n) {
            self::assertSame($before[$h]['count'] + $n, $after[$h]['count'], "$h count");
            self::assertGreaterThan($before[$h]['sum'], $after[$h]['sum'], "$h sum");
            self::assertGreaterThan(0.0, $after[$h]['sum']);
            $buckets = $after[$h]['buckets'];
            self::assertSame('+Inf', array_key_last($buckets));
            self::assertSame($after[$h]['count'], $buckets['+Inf'], "$h: the +Inf bucket is the count");
            $prevLe = -1.0;
            $prevCount = 0;
            foreach ($buckets as $le => $count) {
                $leF = $le === '+Inf' ? INF : (float) $le;
                self::assertGreaterThan($prevLe, $leF, "$h: bounds ascend");
                self::assertGreaterThanOrEqual($prevCount, $count, "$h: cumulative counts never decrease (le=$le)");
                self::assertGreaterThanOrEqual($before[$h]['buckets'][$le], $count, "$h: buckets only grow (le=$le)");
                [$prevLe, $prevCount] = [$leF, $count];
            }
        }
        // The 30 ms holds land above 0.025 s, the ~200 ms wait above 0.1 s.
        $grew = fn (string $h, string $le): int => $after[$h]['buckets'][$le] - $before[$h]['buckets'][$le];
        self::assertGreaterThanOrEqual(3, $grew('hold_seconds', '+Inf') - $grew('hold_seconds', '0.025'), 'three 30 ms holds above 25 ms');
        self::assertGreaterThanOrEqual(1, $grew('wait_seconds', '+Inf') - $grew('wait_seconds', '0.1'), 'one wait over 100 ms');
        self::assertGreaterThan(0.15, $waited);
        self::assertGreaterThanOrEqual($before['wait_seconds']['sum'] + 0.15, $after['wait_seconds']['sum']);
        self::assertGreaterThanOrEqual($before['hold_seconds']['sum'] + 0.09, $after['hold_seconds']['sum']);
    }

    /**
     * Parses Prometheus text format 0.0.4 (as much of it as the extension
     * writes) into families: name => [help, type, samples: list<[name, labels, value]>].
     */
    private static function parsePrometheus(string $text): array
    {
        self::assertStringEndsWith("\n", $text);
        $families = [];
        $current = null;
        foreach (explode("\n", rtrim($text, "\n")) as $n => $line) {
            if (preg_match('/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/', $line, $m)) {
                self::assertArrayNotHasKey($m[1], $families, "HELP of {$m[1]} once, first");
                $families[$m[1]] = ['help' => $m[2], 'type' => null, 'samples' => []];
                $current = $m[1];
                continue;
            }
            if (preg_match('/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/', $line, $m)) {
                self::assertSame($current, $m[1], "line $n: TYPE follows the HELP of the same metric");
                self::assertNull($families[$current]['type'], "line $n: one TYPE");
                self::assertSame([], $families[$current]['samples'], "line $n: TYPE before the samples");
                $families[$current]['type'] = $m[2];
                continue;
            }
            self::assertMatchesRegularExpression(
                '/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{le="([^"]+)"\})? ([0-9.eE+-]+|\+Inf|NaN)$/',
                $line,
                "line $n is a sample",
            );
            preg_match('/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{le="([^"]+)"\})? (\S+)$/', $line, $m);
            self::assertNotNull($current, "line $n: sample before any HELP");
            $type = $families[$current]['type'];
            self::assertNotNull($type, "line $n: sample before TYPE");
            $allowed = $type === 'histogram' ? [$current . '_bucket', $current . '_sum', $current . '_count'] : [$current];
            self::assertContains($m[1], $allowed, "line $n belongs to $current");
            self::assertTrue(is_numeric($m[4]), "line $n: numeric value");
            $families[$current]['samples'][] = [$m[1], ($m[3] ?? '') === '' ? null : $m[3], (float) $m[4]];
        }
        return $families;
    }

    public function testMetricsIsValidPrometheusTextMatchingStats(): void
    {
        // Something in every histogram.
        (new ProcessingLock($this->options()))->executeWithLock('8', 'h', fn () => usleep(2000));
        $stats = stats();
        $text = metrics();
        $families = self::parsePrometheus($text);

        $expected = [];
        foreach (self::COUNTERS as $c) {
            $expected[] = "monei_concurrency_{$c}_total";
        }
        $expected[] = 'monei_concurrency_lock_wait_seconds';
        $expected[] = 'monei_concurrency_lock_hold_seconds';
        $gauges = [
            'monei_concurrency_start_time_seconds' => $stats['started_at'],
            'monei_concurrency_metrics_pool_wide' => 1.0,
            'monei_concurrency_lock_wait_limit_seconds' => ini_get('monei_concurrency.lock_wait_ms') / 1000,
        ];
        self::assertSame(array_merge($expected, array_keys($gauges)), array_keys($families));
        foreach ($gauges as $name => $value) {
            self::assertSame('gauge', $families[$name]['type'], $name);
            self::assertSame([[$name, null, (float) $value]], $families[$name]['samples'], $name);
            unset($families[$name]);
        }

        foreach ($families as $name => $f) {
            self::assertStringStartsWith('monei_concurrency_', $name);
            self::assertNotSame('', trim($f['help']), "$name has a HELP text");
            self::assertNotEmpty($f['samples'], "$name has samples");
            if ($f['type'] === 'counter') {
                self::assertStringEndsWith('_total', $name);
                self::assertCount(1, $f['samples']);
                $counter = substr($name, strlen('monei_concurrency_'), -strlen('_total'));
                self::assertSame((float) $stats[$counter], $f['samples'][0][2], "$name equals stats()['$counter']");
                continue;
            }
            self::assertSame('histogram', $f['type'], $name);
            $buckets = array_values(array_filter($f['samples'], fn ($s) => $s[0] === "{$name}_bucket"));
            $sum = array_values(array_filter($f['samples'], fn ($s) => $s[0] === "{$name}_sum"));
            $count = array_values(array_filter($f['samples'], fn ($s) => $s[0] === "{$name}_count"));
            self::assertCount(1, $sum, "$name: one _sum");
            self::assertCount(1, $count, "$name: one _count");
            self::assertGreaterThan(1, count($buckets));
            self::assertSame('+Inf', end($buckets)[1], "$name: the last bucket is le=\"+Inf\"");
            self::assertSame("{$name}_count", end($f['samples'])[0], "$name: _count comes last");
            $prevLe = -INF;
            $prev = 0.0;
            foreach ($buckets as [, $le, $v]) {
                $leF = $le === '+Inf' ? INF : (float) $le;
                self::assertTrue(is_numeric($le) || $le === '+Inf', "$name: le=\"$le\"");
                self::assertGreaterThan($prevLe, $leF, "$name: le ascends");
                self::assertGreaterThanOrEqual($prev, $v, "$name: buckets are cumulative");
                [$prevLe, $prev] = [$leF, $v];
            }
            self::assertSame(end($buckets)[2], $count[0][2], "$name: _count equals the +Inf bucket");
            self::assertGreaterThan(0, $count[0][2]);
            self::assertGreaterThan(0, $sum[0][2], "$name: _sum");
            $h = $name === 'monei_concurrency_lock_wait_seconds' ? 'wait_seconds' : 'hold_seconds';
            self::assertSame((float) $stats[$h]['count'], $count[0][2], "$name matches stats()");
            self::assertEqualsWithDelta($stats[$h]['sum'], $sum[0][2], 1e-6);
            self::assertSame(array_map('strval', array_keys($stats[$h]['buckets'])), array_column($buckets, 1));
        }
    }
}
