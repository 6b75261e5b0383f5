<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Lease;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Many processes hammering one (order, payment) lock never run their critical
 * sections at the same time and never lose an update.
 */
final class MutualExclusionTest extends RedisTestCase
{
    private const PROCESSES = 16;
    private const CYCLES = 200;

    public function testSixteenProcessesNeverOverlapAndLoseNoUpdate(): void
    {
        $marker = $this->tmp('inside');       // exists while someone is in the critical section
        $counter = $this->tmp('counter');     // read/modify/write without any file locking
        file_put_contents($counter, '0');
        $options = $this->options();

        $job = static function (int $i) use ($marker, $counter, $options): array {
            $lock = new ProcessingLock($options);
            $overlaps = 0;
            $maxWaitMs = 0.0;
            for ($c = 0; $c < self::CYCLES; $c++) {
                $t0 = microtime(true);
                $lock->executeWithLock('100000777', 'pay_mutex', static function (Lease $lease) use ($marker, $counter, &$overlaps, &$maxWaitMs, $t0): void {
                    $maxWaitMs = max($maxWaitMs, (microtime(true) - $t0) * 1000);
                    $mine = @fopen($marker, 'x');     // O_CREAT|O_EXCL: fails if someone else is inside
                    if ($mine === false) {
                        $overlaps++;
                    }
                    $n = (int) file_get_contents($counter);
                    usleep(50);                       // widen the race window
                    file_put_contents($counter, (string) ($n + 1));
                    if ($mine !== false) {
                        fclose($mine);
                        unlink($marker);
                    }
                }, 60000);
            }
            return ['overlaps' => $overlaps, 'maxWaitMs' => $maxWaitMs];
        };

        $t0 = microtime(true);
        $results = Forker::run(array_fill(0, self::PROCESSES, $job), 120);
        $elapsedMs = self::msSince($t0);

        self::assertCount(self::PROCESSES, $results);
        self::assertSame(0, array_sum(array_column($results, 'overlaps')), 'critical sections overlapped');
        self::assertSame((string) (self::PROCESSES * self::CYCLES), file_get_contents($counter), 'updates were lost');
        self::assertFileDoesNotExist($marker);
        self::assertFalse((new ProcessingLock($options))->isLocked('100000777', 'pay_mutex'));
        self::assertSame([], $this->resp()->keys($this->prefix . '*:q*'), 'the waiter queue is left empty');

        $this->recordFigures([
            'processes' => self::PROCESSES,
            'cycles' => self::PROCESSES * self::CYCLES,
            'elapsed_ms' => round($elapsedMs),
            'cycles_per_s' => round(self::PROCESSES * self::CYCLES / ($elapsedMs / 1000)),
            'max_wait_ms' => round(max(array_column($results, 'maxWaitMs')), 1),
            'overlaps' => array_sum(array_column($results, 'overlaps')),
            'counter' => (int) file_get_contents($counter),
        ]);
    }
}
