<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * PaymentStateMachine: a status moves only to a status reachable from the
 * current one. Expected answers come from a reachability table computed here,
 * independently of the extension, from the edge list of the spec.
 */
final class PaymentStateMachineTest extends RedisTestCase
{
    /** MONEI's graph as the spec states it. */
    private const DEFAULT_EDGES = [
        ['PENDING', 'AUTHORIZED'],
        ['AUTHORIZED', 'SUCCEEDED'],
        ['SUCCEEDED', 'PARTIALLY_REFUNDED'],
        ['PARTIALLY_REFUNDED', 'REFUNDED'],
        ['PENDING', 'FAILED'],
        ['PENDING', 'CANCELED'],
        ['PENDING', 'EXPIRED'],
        ['AUTHORIZED', 'FAILED'],
        ['AUTHORIZED', 'CANCELED'],
        ['AUTHORIZED', 'EXPIRED'],
    ];

    private const STATUSES = ['PENDING', 'AUTHORIZED', 'SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'CANCELED', 'EXPIRED'];

    private function machine(array $extra = []): PaymentStateMachine
    {
        return new PaymentStateMachine($this->options($extra));
    }

    /**
     * reachable[from][to] by breadth-first search over $edges; a status does
     * not count as reachable from itself (a duplicate is never a move).
     *
     * @param list<array{string, string}> $edges
     * @return array<string, array<string, bool>>
     */
    private static function reachability(array $edges): array
    {
        $next = [];
        foreach ($edges as [$a, $b]) {
            $next[$a][] = $b;
            $next[$b] ??= [];
        }
        $table = [];
        foreach (array_keys($next) as $from) {
            $seen = [];
            $queue = $next[$from];
            while ($queue !== []) {
                $s = array_shift($queue);
                if (isset($seen[$s])) {
                    continue;
                }
                $seen[$s] = true;
                array_push($queue, ...$next[$s]);
            }
            foreach (array_keys($next) as $to) {
                $table[$from][$to] = $to !== $from && isset($seen[$to]);
            }
        }
        return $table;
    }

    /**
     * Runs every (from, to) pair on a fresh payment; returns the observed
     * table of [advance(to), current() afterwards] and asserts the first move.
     *
     * @param list<string> $statuses
     * @return array<string, array<string, array{bool, ?string}>>
     */
    private function observe(PaymentStateMachine $m, array $statuses, string $tag): array
    {
        $seen = [];
        foreach ($statuses as $i => $from) {
            foreach ($statuses as $j => $to) {
                $pay = "pay_{$tag}_{$i}_{$j}";
                self::assertNull($m->current($pay));
                self::assertTrue($m->advance($pay, $from), "any status may be the first ($from)");
                self::assertSame($from, $m->current($pay));
                $ok = $m->advance($pay, $to);
                $seen[$from][$to] = [$ok, $m->current($pay)];
            }
        }
        return $seen;
    }

    /** @param array<string, array<string, bool>> $reach */
    private static function expectedFrom(array $reach): array
    {
        $expected = [];
        foreach ($reach as $from => $row) {
            foreach ($row as $to => $ok) {
                $expected[$from][$to] = [$ok, $ok ? $to : $from];
            }
        }
        return $expected;
    }

    public function testTheExpectedTableIsWhatTheSpecSays(): void
    {
        // Guards the BFS above with a few hand-checked facts.
        $r = self::reachability(self::DEFAULT_EDGES);
        self::assertCount(8, $r);
        self::assertTrue($r['PENDING']['REFUNDED']);
        self::assertTrue($r['AUTHORIZED']['PARTIALLY_REFUNDED']);
        self::assertTrue($r['PENDING']['EXPIRED']);
        self::assertFalse($r['SUCCEEDED']['FAILED']);
        self::assertFalse($r['REFUNDED']['PARTIALLY_REFUNDED']);
        self::assertFalse($r['FAILED']['CANCELED']);
        self::assertFalse($r['PENDING']['PENDING']);
        self::assertSame(16, array_sum(array_map('array_sum', $r)));
    }

    public function testEveryPairOfTheDefaultGraph(): void
    {
        $reach = self::reachability(self::DEFAULT_EDGES);
        $expected = self::expectedFrom($reach);
        $statuses = self::STATUSES;
        // Shuffled so no ordering of the loop can hide anything.
        shuffle($statuses);
        $seen = $this->observe($this->machine(), $statuses, 'd');
        ksort($seen);
        foreach ($seen as &$row) {
            ksort($row);
        }
        unset($row);
        ksort($expected);
        foreach ($expected as &$row) {
            ksort($row);
        }
        unset($row);
        self::assertSame($expected, $seen);
    }

    public function testARefusedMoveChangesNothingAndLaterMovesStillWork(): void
    {
        $m = $this->machine(['retention_s' => 3600]);
        $key = $this->prefix . '{pay_x}:state';
        self::assertTrue($m->advance('pay_x', 'AUTHORIZED'));
        $ttl = $this->resp()->command('PTTL', $key);
        self::assertGreaterThan(3_500_000, $ttl);
        self::assertLessThanOrEqual(3_600_000, $ttl);
        foreach (['AUTHORIZED', 'PENDING', 'AUTHORIZED'] as $stale) {
            $this->resp()->command('PEXPIRE', $key, 1_000_000);
            self::assertFalse($m->advance('pay_x', $stale), $stale);
            self::assertSame('AUTHORIZED', $m->current('pay_x'));
            // Nothing changed: not even the expiry was refreshed.
            self::assertLessThanOrEqual(1_000_000, $this->resp()->command('PTTL', $key));
        }
        // A lost SUCCEEDED does not block the refund.
        self::assertTrue($m->advance('pay_x', 'PARTIALLY_REFUNDED'));
        self::assertFalse($m->advance('pay_x', 'SUCCEEDED'));
        self::assertFalse($m->advance('pay_x', 'CANCELED'));
        self::assertTrue($m->advance('pay_x', 'REFUNDED'));
        self::assertFalse($m->advance('pay_x', 'REFUNDED'));
        self::assertSame('REFUNDED', $m->current('pay_x'));
        // Another object and another prefix see the same / nothing.
        self::assertSame('REFUNDED', $this->machine()->current('pay_x'));
        self::assertNull((new PaymentStateMachine($this->options(['key_prefix' => $this->prefix . 'o:'])))->current('pay_x'));
        self::assertNull($m->current('pay_never'));
    }

    public function testUnknownStatusesAreInvalidArgument(): void
    {
        $m = $this->machine();
        self::assertTrue($m->advance('pay_u', 'PENDING'));
        foreach (['', 'pending', 'UNKNOWN', 'PENDING ', ' PENDING', "PENDING\0", 'REFUND', 'Authorized'] as $bad) {
            try {
                $m->advance('pay_u', $bad);
                self::fail('accepted ' . json_encode($bad));
            } catch (InvalidArgumentException) {
            }
            self::assertSame('PENDING', $m->current('pay_u'));
        }
        // Also as the first status: nothing is written.
        try {
            $m->advance('pay_new', 'NOPE');
            self::fail('accepted an unknown first status');
        } catch (InvalidArgumentException) {
        }
        self::assertNull($m->current('pay_new'));
        // A custom graph replaces the default one entirely.
        $custom = $this->machine(['transitions' => ['NEW' => ['PAID']]]);
        try {
            $custom->advance('pay_c', 'PENDING');
            self::fail('the default graph is still in use');
        } catch (InvalidArgumentException) {
        }
    }

    /** @return array<string, array{array<string, list<string>>}> */
    public static function customGraphs(): array
    {
        return [
            'shop' => [[
                'NEW' => ['PAID', 'VOID'],
                'PAID' => ['SHIPPED', 'REFUNDED'],
                'SHIPPED' => ['DELIVERED'],
                'DELIVERED' => ['RETURNED'],
                'RETURNED' => ['REFUNDED'],
                'VOID' => [],
            ]],
            'diamond with a status named only as a target' => [[
                'A' => ['B', 'C'],
                'B' => ['D'],
                'C' => ['D'],
            ]],
            'cycle' => [[
                'OPEN' => ['HELD'],
                'HELD' => ['OPEN', 'CLOSED'],
            ]],
            'unicode and odd names' => [[
                'pendiente' => ['pagado', 'a:b{c}%'],
                'pagado' => ['devuelto €'],
                'a:b{c}%' => [],
            ]],
            'duplicates in a list' => [[
                'X' => ['Y', 'Y', 'Z'],
                'Y' => ['Z', 'Z'],
            ]],
            'isolated status' => [[
                'ALONE' => [],
                'P' => ['Q'],
            ]],
        ];
    }

    /** @dataProvider customGraphs */
    #[DataProvider('customGraphs')]
    public function testEveryPairOfACustomGraph(array $graph): void
    {
        $edges = [];
        foreach ($graph as $from => $targets) {
            $edges[] = [(string) $from, (string) $from]; // mentions the node; self-loops are ignored below
            foreach ($targets as $to) {
                $edges[] = [(string) $from, $to];
            }
        }
        $reach = self::reachability($edges);
        $expected = self::expectedFrom($reach);
        $statuses = array_keys($reach);
        $seen = $this->observe($this->machine(['transitions' => $graph]), $statuses, 'c');
        self::assertSame($expected, $seen);
    }

    /** @return array<string, array{mixed}> */
    public static function badGraphs(): array
    {
        return [
            'string instead of a map' => ['PENDING'],
            'int instead of a map' => [5],
            'null' => [null],
            'empty array' => [[]],
            'string instead of a list' => [['A' => 'B']],
            'null instead of a list' => [['A' => null]],
            'int instead of a list' => [['A' => 1]],
            'string instead of a list, second entry' => [['A' => ['B'], 'B' => 'C']],
            'int in a list' => [['A' => [1]]],
            'int among strings' => [['A' => ['B', 2, 'C']]],
            'float in a list' => [['A' => [1.5]]],
            'bool in a list' => [['A' => [true]]],
            'null in a list' => [['A' => [null]]],
            'object in a list' => [['A' => [new \stdClass()]]],
            'list nested in a list' => [['A' => [['B']]]],
            'map nested in a list' => [['A' => ['B' => ['C']]]],
            'deeply nested garbage' => [['A' => [[[[['B']]]]]]],
            'object instead of a map' => [new \ArrayObject(['A' => ['B']])],
            'empty status as target' => [['A' => ['']]],
            'empty status as source' => [['' => ['A']]],
            'status with a control character' => [['A' => ["B\n"]]],
            'status of 65 bytes' => [['A' => [str_repeat('B', 65)]]],
        ];
    }

    /** @dataProvider badGraphs */
    #[DataProvider('badGraphs')]
    public function testInvalidGraphsAreInvalidArgument(mixed $graph): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->machine(['transitions' => $graph]);
    }

    /** @return array<string, array{array<string, mixed>}> */
    public static function badOptions(): array
    {
        return [
            'unknown option' => [['graph' => ['A' => ['B']]]],
            'retention_s as string' => [['retention_s' => '60']],
            'retention_s zero' => [['retention_s' => 0]],
            'retention_s negative' => [['retention_s' => -1]],
        ];
    }

    /** @dataProvider badOptions */
    #[DataProvider('badOptions')]
    public function testBadOptionsAreInvalidArgument(array $options): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->machine($options);
    }

    public function testBadPaymentIdsAreInvalidArgument(): void
    {
        $m = $this->machine();
        foreach (['', "a\0b", str_repeat('p', 256)] as $id) {
            foreach ([static fn () => $m->advance($id, 'PENDING'), static fn () => $m->current($id)] as $call) {
                try {
                    $call();
                    self::fail('accepted payment id ' . bin2hex(substr($id, 0, 20)));
                } catch (InvalidArgumentException) {
                }
            }
        }
        self::assertSame([], $this->resp()->keys($this->prefix . '*'));
    }

    /**
     * Statuses of one payment on one path, delivered concurrently, duplicated
     * and in any order by 8 processes, always end in the furthest one.
     */
    public function testConcurrentDeliveriesAlongOnePathEndInTheFurthestStatus(): void
    {
        $paths = [
            ['PENDING', 'AUTHORIZED', 'SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED'],
            ['PENDING', 'AUTHORIZED', 'FAILED'],
            ['PENDING', 'AUTHORIZED', 'CANCELED'],
            ['PENDING', 'EXPIRED'],
            ['AUTHORIZED', 'SUCCEEDED', 'REFUNDED'],
        ];
        $procs = 8;
        $nPay = 1000;
        mt_srand(8086);
        $plan = array_fill(0, $procs, []); // per process: list of [payment, status]
        $expected = [];
        for ($n = 0; $n < $nPay; $n++) {
            $pay = "pay_c$n";
            $path = $paths[$n % count($paths)];
            $furthest = -1;
            for ($p = 0; $p < $procs; $p++) {
                // A random subset of the path, possibly empty, each status once or twice.
                $mine = [];
                foreach ($path as $i => $s) {
                    if (mt_rand(0, 1) === 1) {
                        $mine[] = [$pay, $s];
                        if (mt_rand(0, 2) === 0) {
                            $mine[] = [$pay, $s];
                        }
                        $furthest = max($furthest, $i);
                    }
                }
                shuffle($mine);
                $plan[$p][$n] = $mine;
            }
            if ($furthest < 0) { // nobody delivered anything: process 0 delivers the first status
                $plan[0][$n] = [[$pay, $path[0]]];
                $furthest = 0;
            }
            $expected[$pay] = $path[$furthest];
        }
        // Each process walks the payments roughly in the same order (shuffled in
        // small windows), so all of them hit the same payment at the same time.
        foreach ($plan as $p => $byPayment) {
            $flat = [];
            foreach (array_chunk($byPayment, 3) as $window) {
                $events = array_merge(...$window);
                shuffle($events);
                array_push($flat, ...$events);
            }
            $plan[$p] = $flat;
        }

        $options = $this->options();
        $go = $this->tmp('go');
        /** @var list<ForkedChild> $children */
        $children = [];
        foreach ($plan as $p => $events) {
            $children[] = Forker::spawn(static function () use ($options, $events, $go): array {
                $m = new PaymentStateMachine($options);
                $m->current('warm-up');
                while (!is_file($go)) {
                    usleep(500);
                }
                $applied = [];
                foreach ($events as [$pay, $status]) {
                    if ($m->advance($pay, $status)) {
                        $applied[$pay][] = $status;
                    }
                }
                return $applied;
            }, $p);
        }
        self::signal($go);
        $applied = [];
        foreach ($children as $c) {
            foreach ($c->wait(60) as $pay => $list) {
                $applied[$pay] = array_merge($applied[$pay] ?? [], $list);
            }
        }

        $m = $this->machine();
        $wrong = [];
        foreach ($expected as $pay => $status) {
            $got = $m->current($pay);
            if ($got !== $status) {
                $wrong[$pay] = "$got instead of $status";
            }
            // Every applied status was a distinct forward move: at most one per path step.
            $list = $applied[$pay] ?? [];
            if ($list === [] || count($list) !== count(array_unique($list))) {
                $wrong[$pay . ' moves'] = implode(',', $list);
            }
            if (!in_array($status, $list, true)) {
                $wrong[$pay . ' final'] = "$status was never applied";
            }
        }
        self::assertSame([], $wrong);
    }
}
