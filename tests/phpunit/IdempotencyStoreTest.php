<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\IdempotencyInProgressException;
use Monei\Concurrency\IdempotencyMismatchException;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use Monei\Concurrency\Tests\Support\Resp;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * IdempotencyStore::once(): the first caller runs the callback, later callers
 * get the stored result, concurrent callers wait (woken on completion), a
 * failed or dead worker's claim goes away, and across 16 processes every key
 * runs exactly once.
 */
final class IdempotencyStoreTest extends RedisTestCase
{
    private function store(array $extra = []): IdempotencyStore
    {
        return new IdempotencyStore($this->options($extra));
    }

    /** Redis key of a record (for keys that need no escaping). */
    private function recordKey(string $key): string
    {
        return $this->prefix . '{' . $key . '}:once';
    }

    /** A callback that fails the test if it ever runs. */
    private static function mustNotRun(): \Closure
    {
        return static function (): never {
            throw new \LogicException('the callback ran although the key was claimed or completed');
        };
    }

    /** Strict equality that also holds for objects: same type, same serialized form. */
    private static function assertSameValue(mixed $expected, mixed $actual, string $message = ''): void
    {
        self::assertEquals($expected, $actual, $message);
        self::assertSame(get_debug_type($expected), get_debug_type($actual), $message);
        self::assertSame(serialize($expected), serialize($actual), $message);
    }

    /**
     * A child that claims $key and runs a callback which reports 'claimed' and
     * then waits for the file 'finish' (or for $holdS seconds) before returning
     * $result (or throwing if $result is a Throwable class name).
     */
    private function holder(string $key, string $result, array $options, string $fingerprint = '', ?float $holdS = null, bool $throw = false): ForkedChild
    {
        $claimed = $this->tmp("claimed-$key");
        $finish = $this->tmp("finish-$key");
        $done = $this->tmp("done-$key");
        $child = Forker::spawn(static function () use ($key, $result, $options, $fingerprint, $holdS, $throw, $claimed, $finish, $done): mixed {
            $store = new IdempotencyStore($options);
            try {
                return $store->once($key, static function () use ($result, $holdS, $throw, $claimed, $finish, $done): string {
                    file_put_contents($claimed, (string) microtime(true));
                    $until = $holdS === null ? INF : microtime(true) + $holdS;
                    while (!is_file($finish) && microtime(true) < $until) {
                        usleep(1000);
                    }
                    file_put_contents($done, (string) microtime(true));
                    if ($throw) {
                        throw new \DomainException($result);
                    }
                    return $result;
                }, $fingerprint, 0);
            } catch (\DomainException $e) {
                return 'threw:' . $e->getMessage();
            }
        });
        self::waitForFile($claimed);
        return $child;
    }

    // ---------------------------------------------------------------- results

    /** @return array<string, array{mixed}> */
    public static function storableValues(): array
    {
        return [
            'null' => [null],
            'false' => [false],
            'true' => [true],
            'zero' => [0],
            'negative int' => [-17],
            'PHP_INT_MAX' => [PHP_INT_MAX],
            'PHP_INT_MIN' => [PHP_INT_MIN],
            'float' => [0.1 + 0.2],
            'negative zero' => [-0.0],
            'float 1e308' => [1e308],
            'INF' => [INF],
            'empty string' => [''],
            'zero string' => ['0'],
            'binary string' => ["\0\xff\x00abc\r\n"],
            'unicode string' => ['Café 日本語 🙂'],
            'large string' => [str_repeat('x', 300000)],
            'empty array' => [[]],
            'list' => [[1, 'two', 3.0, null, false]],
            'nested array' => [['order' => ['id' => '100000123', 'items' => [['sku' => 'A', 'qty' => 2]]], 'ok' => true]],
        ];
    }

    /** @dataProvider storableValues */
    #[DataProvider('storableValues')]
    public function testFirstCallerRunsAndLaterCallersGetTheStoredResult(mixed $value): void
    {
        $store = $this->store();
        $runs = 0;
        $first = $store->once('k1', static function () use ($value, &$runs): mixed {
            $runs++;
            return $value;
        });
        self::assertSame(1, $runs);
        self::assertSameValue($value, $first);
        self::assertSame('completed', $store->status('k1'));

        // Later callers, on this object and on a fresh one: stored result, no run.
        foreach ([$store, $this->store()] as $s) {
            self::assertSameValue($value, $s->once('k1', self::mustNotRun()));
        }
        // Kept for the default retention of 86400 s.
        $pttl = $this->resp()->command('PTTL', $this->recordKey('k1'));
        self::assertGreaterThan(86_300_000, $pttl);
        self::assertLessThanOrEqual(86_400_000, $pttl);
    }

    public function testAnotherProcessGetsTheStoredResults(): void
    {
        $values = array_map(static fn (array $v): mixed => $v[0], self::storableValues());
        $store = $this->store();
        foreach ($values as $name => $v) {
            $store->once("x-$name", static fn (): mixed => $v);
        }
        $options = $this->options();
        $keys = array_keys($values);
        [$got] = Forker::run([static function () use ($options, $keys): array {
            $s = new IdempotencyStore($options);
            $out = [];
            foreach ($keys as $name) {
                $out[$name] = $s->once("x-$name", static function (): never {
                    throw new \LogicException('ran in the child');
                });
            }
            return $out;
        }]);
        foreach ($values as $name => $v) {
            self::assertSameValue($v, $got[$name], $name);
        }
    }

    /** @return array<string, array{\Closure(): mixed}> */
    public static function unserializableResults(): array
    {
        return [
            'closure' => [static fn (): mixed => static fn () => 1],
            'anonymous class' => [static fn (): mixed => new class () {
                public int $x = 1;
            }],
            'closure inside an array' => [static fn (): mixed => ['ok' => 1, 'cb' => static fn () => 2]],
            'closure as a property' => [static function (): mixed {
                $o = new \stdClass();
                $o->cb = static fn () => 3;
                return $o;
            }],
            'generator' => [static fn (): mixed => (static function () {
                yield 1;
            })()],
            'internal object refusing serialization' => [static fn (): mixed => new \ReflectionClass(\stdClass::class)],
        ];
    }

    /** @dataProvider unserializableResults */
    #[DataProvider('unserializableResults')]
    public function testAResultThatCannotBeSerializedIsInvalidArgumentAndNothingIsStored(\Closure $produce): void
    {
        $store = $this->store();
        $runs = 0;
        try {
            $store->once('bad', static function () use ($produce, &$runs): mixed {
                $runs++;
                return $produce();
            });
            self::fail('once() accepted a result serialize() refuses');
        } catch (InvalidArgumentException $e) {
            self::assertSame(1, $runs);
        }
        self::assertNull($store->status('bad'));
        self::assertSame(0, $this->resp()->command('EXISTS', $this->recordKey('bad')));
        // The key is free: the next caller runs its callback and that result is kept.
        self::assertSame('second', $store->once('bad', static fn (): string => 'second'));
        self::assertSame('second', $store->once('bad', self::mustNotRun()));
        self::assertSame('completed', $store->status('bad'));
    }

    // ---------------------------------------------------------------- waiting

    public function testConcurrentCallersWaitAndAreWokenOnCompletionNotByPolling(): void
    {
        $options = $this->options();
        $holdS = 2.5;
        $holder = $this->holder('w', 'result-of-holder', $options, '', $holdS);

        // Three more processes wait, as does this one.
        $ready = $this->tmp('waiters');
        $waiters = [];
        for ($i = 0; $i < 3; $i++) {
            $waiters[] = Forker::spawn(static function () use ($options, $ready, $i): array {
                $s = new IdempotencyStore($options);
                file_put_contents("$ready-$i", '1');
                $v = $s->once('w', static function (): never {
                    throw new \LogicException('a waiter ran the callback');
                }, '', 20000);
                return [$v, microtime(true)];
            }, $i);
        }
        for ($i = 0; $i < 3; $i++) {
            self::waitForFile("$ready-$i");
        }
        $store = $this->store();
        $before = $this->resp()->commandCalls();
        $t0 = microtime(true);
        $v = $store->once('w', self::mustNotRun(), '', 20000);
        $returned = microtime(true);
        $after = $this->resp()->commandCalls();

        self::assertSame('result-of-holder', $v);
        self::assertSame('result-of-holder', $holder->wait());
        $completedAt = (float) file_get_contents($this->tmp('done-w'));
        // It really waited for the holder, and came back long before its 20 s deadline.
        self::assertGreaterThanOrEqual($completedAt, $returned);
        self::assertLessThan(8.0, $returned - $t0);
        foreach ($waiters as $i => $w) {
            [$wv, $wt] = $w->wait(20);
            self::assertSame('result-of-holder', $wv, "waiter $i");
            self::assertGreaterThanOrEqual($completedAt, $wt, "waiter $i");
            self::assertLessThan($completedAt + 8.0, $wt, "waiter $i");
        }
        // Not polling: while this process waited ~2 s, the scripts run were one
        // claim attempt before sleeping, one after the wake-up, the holder's
        // completion, and the three other waiters' second claim (plus slack for
        // a timed-out block each). A 500 ms poller alone would exceed this.
        $scripts = ($after['evalsha'] ?? 0) - ($before['evalsha'] ?? 0) + ($after['eval'] ?? 0) - ($before['eval'] ?? 0);
        self::assertLessThanOrEqual(9, $scripts, 'script calls during the wait');
        $this->recordFigures(['waited_ms' => round(($returned - $t0) * 1000, 1), 'returned_after_completion_ms' => round(($returned - $completedAt) * 1000, 1), 'script_calls_during_wait' => $scripts]);
        self::assertSame('completed', $store->status('w'));
    }

    public function testStillRunningAfterWaitMsIsInProgress(): void
    {
        $options = $this->options();
        $holder = $this->holder('busy', 'late-result', $options);
        $store = $this->store();
        try {
            foreach ([0, 400] as $waitMs) {
                $t0 = microtime(true);
                try {
                    $store->once('busy', self::mustNotRun(), '', $waitMs);
                    self::fail("no exception with waitMs=$waitMs");
                } catch (IdempotencyInProgressException $e) {
                    $ms = self::msSince($t0);
                    self::assertInstanceOf(ConcurrencyException::class, $e);
                    self::assertGreaterThanOrEqual($waitMs * 0.95, $ms, "gave up before waitMs=$waitMs");
                    self::assertLessThan($waitMs + 5000, $ms);
                }
                self::assertSame('in_progress', $store->status('busy'));
            }
        } finally {
            self::signal($this->tmp('finish-busy'));
        }
        self::assertSame('late-result', $holder->wait());
        self::assertSame('late-result', $store->once('busy', self::mustNotRun()));
        self::assertSame('late-result', $store->once('busy', self::mustNotRun(), '', 0));
    }

    public function testAWaiterRunsTheCallbackWhenTheFirstCallerFails(): void
    {
        $options = $this->options();
        $holder = $this->holder('retry', 'holder failed', $options, '', 1.0, true);
        $store = $this->store();
        $t0 = microtime(true);
        $v = $store->once('retry', static fn (): string => 'ran by the waiter', '', 20000);
        self::assertSame('ran by the waiter', $v);
        self::assertSame('threw:holder failed', $holder->wait());
        self::assertLessThan(8.0, microtime(true) - $t0, 'woken long before the 20 s deadline');
        self::assertSame('ran by the waiter', $store->once('retry', self::mustNotRun()));
    }

    // ---------------------------------------------------------------- fingerprints

    public function testADifferentFingerprintIsAMismatchWhileInProgressAndAfterCompletion(): void
    {
        $options = $this->options();
        $fpA = hash('sha256', '{"amount":100}');
        $fpB = hash('sha256', '{"amount":999}');
        $holder = $this->holder('fp', 'result-A', $options, $fpA);
        $store = $this->store();
        try {
            foreach ([0, 300] as $waitMs) {
                try {
                    $store->once('fp', self::mustNotRun(), $fpB, $waitMs);
                    self::fail('mismatch not detected while in progress');
                } catch (IdempotencyMismatchException $e) {
                    self::assertInstanceOf(ConcurrencyException::class, $e);
                }
            }
            // The same fingerprint is simply still in progress.
            try {
                $store->once('fp', self::mustNotRun(), $fpA, 0);
                self::fail('no exception while in progress');
            } catch (IdempotencyInProgressException) {
            }
        } finally {
            self::signal($this->tmp('finish-fp'));
        }
        self::assertSame('result-A', $holder->wait());

        foreach ([0, 1000] as $waitMs) {
            try {
                $store->once('fp', self::mustNotRun(), $fpB, $waitMs);
                self::fail('mismatch not detected after completion');
            } catch (IdempotencyMismatchException) {
            }
        }
        self::assertSame('result-A', $store->once('fp', self::mustNotRun(), $fpA));
        self::assertSame('completed', $store->status('fp'));
    }

    // ---------------------------------------------------------------- failures

    public function testACallbackExceptionDropsTheClaimAndReachesTheCallerUnchanged(): void
    {
        $store = $this->store();
        $previous = new \LogicException('root cause', 7);
        $thrown = new IdempotencyTestException('gateway said no', 402, $previous);
        $thrown->detail = ['code' => 'E402'];
        try {
            $store->once('fail', static function () use ($thrown): never {
                throw $thrown;
            });
            self::fail('the exception did not reach the caller');
        } catch (\Throwable $e) {
            self::assertSame($thrown, $e);
            self::assertSame(402, $e->getCode());
            self::assertSame('gateway said no', $e->getMessage());
            self::assertSame($previous, $e->getPrevious());
            self::assertSame(['code' => 'E402'], $e->detail);
        }
        self::assertNull($store->status('fail'));
        self::assertSame(0, $this->resp()->command('EXISTS', $this->recordKey('fail')));

        // PHP errors too.
        $error = new \TypeError('bad type', 3);
        try {
            $store->once('fail', static function () use ($error): never {
                throw $error;
            });
            self::fail('the error did not reach the caller');
        } catch (\Throwable $e) {
            self::assertSame($error, $e);
        }
        self::assertNull($store->status('fail'));

        // A retry runs.
        self::assertSame('third time', $store->once('fail', static fn (): string => 'third time'));
        self::assertSame('third time', $store->once('fail', self::mustNotRun()));
    }

    public function testAWorkerThatDiedMidCallbackLeavesAClaimThatExpires(): void
    {
        $options = $this->options(['in_progress_ttl_ms' => 1000]);
        $claimedFile = $this->tmp('claimed');
        $child = Forker::spawn(static function () use ($options, $claimedFile): mixed {
            return (new IdempotencyStore($options))->once('dead', static function () use ($claimedFile): never {
                file_put_contents($claimedFile, (string) microtime(true));
                posix_kill(getmypid(), SIGKILL);
                sleep(30);
                throw new \LogicException('not killed');
            });
        });
        self::waitUntil(static fn (): bool => !$child->running(), 10, 'the worker to die');
        $claimedAt = (float) self::waitForFile($claimedFile);

        $store = new IdempotencyStore($options);
        self::assertSame('in_progress', $store->status('dead'));
        $pttl = $this->resp()->command('PTTL', $this->recordKey('dead'));
        self::assertGreaterThan(0, $pttl);
        self::assertLessThanOrEqual(1000, $pttl);
        try {
            $store->once('dead', self::mustNotRun(), '', 0);
            self::fail('the dead worker\'s claim was not in progress');
        } catch (IdempotencyInProgressException) {
        }

        $ranAt = null;
        $t0 = microtime(true);
        $v = $store->once('dead', static function () use (&$ranAt): string {
            $ranAt = microtime(true);
            return 'recovered';
        }, '', 10000);
        self::assertSame('recovered', $v);
        self::assertNotNull($ranAt);
        // Not before the claim's 1000 ms were up, and long before the 10 s wait ran out.
        self::assertGreaterThanOrEqual($claimedAt + 0.95, $ranAt);
        self::assertLessThan(6.0, microtime(true) - $t0);
        self::assertSame('completed', $store->status('dead'));
        self::assertSame('recovered', $store->once('dead', self::mustNotRun()));
    }

    // ---------------------------------------------------------------- exactly once

    public function testExactlyOnceAcross16ProcessesAnd500Keys(): void
    {
        $procs = 16;
        $nKeys = 500;
        $options = $this->options();
        $countKey = $this->prefix . 'runs';
        $go = $this->tmp('go');
        $url = self::redisUrl();
        $children = [];
        for ($p = 0; $p < $procs; $p++) {
            $children[$p] = Forker::spawn(static function (int $p) use ($options, $countKey, $go, $url, $nKeys): array {
                $keys = [];
                for ($k = 0; $k < $nKeys; $k++) {
                    $keys[] = "order-$k";
                }
                mt_srand($p * 7919 + 1);
                shuffle($keys);
                $store = new IdempotencyStore($options);
                $resp = Resp::fromUrl($url);
                $store->status('warm-up'); // connect before the start line
                $runs = 0;
                while (!is_file($go)) {
                    usleep(500);
                }
                $got = [];
                $t0 = microtime(true);
                foreach ($keys as $key) {
                    $got[$key] = $store->once($key, static function () use ($key, $resp, $countKey, &$runs): string {
                        $runs++;
                        $resp->command('HINCRBY', $countKey, $key, 1);
                        usleep(mt_rand(0, 2000)); // widen the window in which others find it in progress
                        return $key . '-' . getmypid() . '-' . bin2hex(random_bytes(8));
                    }, 'fp', 20000);
                }
                $t1 = microtime(true);
                return ['pid' => getmypid(), 'runs' => $runs, 'got' => $got, 't0' => $t0, 't1' => $t1];
            }, $p);
        }
        self::signal($go);
        $results = [];
        foreach ($children as $p => $c) {
            $results[$p] = $c->wait(120);
        }

        $pids = array_column($results, 'pid');
        self::assertSame($nKeys, array_sum(array_column($results, 'runs')), 'callback runs in total');
        $counts = $this->resp()->hgetall($countKey);
        self::assertCount($nKeys, $counts);
        self::assertSame([1], array_values(array_unique(array_map('intval', $counts))), 'runs per key');

        for ($k = 0; $k < $nKeys; $k++) {
            $key = "order-$k";
            $seen = array_unique(array_map(static fn (array $r): string => $r['got'][$key], $results));
            self::assertCount(1, $seen, "callers of $key got different results");
            $v = reset($seen);
            self::assertMatchesRegularExpression('/^' . preg_quote($key, '/') . '-(\d+)-[0-9a-f]{16}$/', $v);
            self::assertContains((int) explode('-', substr($v, strlen($key) + 1))[0], $pids);
        }
        self::assertSame('completed', $this->store()->status('order-0'));
        self::assertSame('completed', $this->store()->status('order-' . ($nKeys - 1)));

        $wallMs = (max(array_column($results, 't1')) - min(array_column($results, 't0'))) * 1000;
        $busyMs = 0.0;
        foreach ($results as $r) {
            $busyMs += ($r['t1'] - $r['t0']) * 1000;
        }
        $calls = $procs * $nKeys;
        $this->recordFigures([
            'processes' => $procs,
            'keys' => $nKeys,
            'calls' => $calls,
            'callback_runs' => $nKeys,
            'wall_ms' => round($wallMs, 1),
            'mean_call_ms' => round($busyMs / $calls, 3),
            'calls_per_s' => round($calls / ($wallMs / 1000)),
            'cpus' => (int) trim((string) @shell_exec('nproc')),
        ]);
    }

    // ---------------------------------------------------------------- status, forget, retention

    public function testStatusAndForget(): void
    {
        $store = $this->store();
        self::assertNull($store->status('s'));
        $inside = null;
        $v = $store->once('s', static function () use ($store, &$inside): array {
            $inside = $store->status('s');
            return ['v' => 1];
        });
        self::assertSame('in_progress', $inside);
        self::assertSame(['v' => 1], $v);
        self::assertSame('completed', $store->status('s'));
        self::assertSame('completed', $this->store()->status('s'));

        self::assertTrue($store->forget('s'));
        self::assertNull($store->status('s'));
        self::assertSame(0, $this->resp()->command('EXISTS', $this->recordKey('s')));
        self::assertFalse($store->forget('s'));
        self::assertFalse($store->forget('never-used'));

        // Runnable again, and the new result is the one kept.
        self::assertSame(['v' => 2], $store->once('s', static fn (): array => ['v' => 2]));
        self::assertSame(['v' => 2], $store->once('s', self::mustNotRun()));
        // A different prefix is a different store.
        self::assertNull((new IdempotencyStore($this->options(['key_prefix' => $this->prefix . 'other:'])))->status('s'));
    }

    public function testForgetDropsAClaimOfADeadWorker(): void
    {
        $options = $this->options();
        $claimedFile = $this->tmp('claimed');
        $child = Forker::spawn(static function () use ($options, $claimedFile): mixed {
            return (new IdempotencyStore($options))->once('stuck', static function () use ($claimedFile): never {
                file_put_contents($claimedFile, '1');
                posix_kill(getmypid(), SIGKILL);
                sleep(30);
                throw new \LogicException('not killed');
            });
        });
        self::waitUntil(static fn (): bool => !$child->running(), 10, 'the worker to die');
        $store = $this->store();
        self::assertSame('in_progress', $store->status('stuck'));
        self::assertTrue($store->forget('stuck'));
        self::assertNull($store->status('stuck'));
        self::assertSame('now', $store->once('stuck', static fn (): string => 'now'));
    }

    public function testRetentionAndInProgressTtlAreApplied(): void
    {
        $store = $this->store(['retention_s' => 1, 'in_progress_ttl_ms' => 5000]);
        $pttlInside = null;
        $resp = $this->resp();
        $key = $this->recordKey('r');
        $store->once('r', static function () use ($resp, $key, &$pttlInside): string {
            $pttlInside = $resp->command('PTTL', $key);
            return 'short-lived';
        });
        self::assertGreaterThan(3000, $pttlInside, 'in_progress_ttl_ms');
        self::assertLessThanOrEqual(5000, $pttlInside, 'in_progress_ttl_ms');
        $pttl = $resp->command('PTTL', $key);
        self::assertGreaterThan(0, $pttl);
        self::assertLessThanOrEqual(1000, $pttl);
        self::assertSame('completed', $store->status('r'));
        self::assertSame('short-lived', $store->once('r', self::mustNotRun()));

        usleep(1_500_000);
        self::assertNull($store->status('r'));
        self::assertSame(0, $resp->command('EXISTS', $key));
        self::assertSame('again', $store->once('r', static fn (): string => 'again'));
    }

    // ---------------------------------------------------------------- bad input

    public function testKeysUpTo255BytesAreAccepted(): void
    {
        $store = $this->store();
        foreach ([str_repeat('k', 255), 'a', "\xff\xfe", 'with:colon{brace}%', 'ü€', '12345'] as $key) {
            self::assertSame(bin2hex($key), $store->once($key, static fn (): string => bin2hex($key)));
            self::assertSame('completed', $store->status($key));
            self::assertSame(bin2hex($key), $store->once($key, self::mustNotRun()));
            self::assertTrue($store->forget($key));
        }
    }

    /** @return array<string, array{\Closure(IdempotencyStore, \Closure): mixed}> */
    public static function badCalls(): array
    {
        $long = str_repeat('k', 256);
        return [
            'once: empty key' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once('', $cb)],
            'once: key of 256 bytes' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once($long, $cb)],
            'once: key of 10 KiB' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once(str_repeat('k', 10240), $cb)],
            'once: NUL in key' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once("a\0b", $cb)],
            'once: key is a NUL' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once("\0", $cb)],
            'once: waitMs -1' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once('ok', $cb, '', -1)],
            'once: waitMs PHP_INT_MIN' => [static fn (IdempotencyStore $s, \Closure $cb) => $s->once('ok', $cb, 'fp', PHP_INT_MIN)],
            'status: empty key' => [static fn (IdempotencyStore $s) => $s->status('')],
            'status: key of 256 bytes' => [static fn (IdempotencyStore $s) => $s->status($long)],
            'status: NUL in key' => [static fn (IdempotencyStore $s) => $s->status("x\0")],
            'forget: empty key' => [static fn (IdempotencyStore $s) => $s->forget('')],
            'forget: key of 256 bytes' => [static fn (IdempotencyStore $s) => $s->forget($long)],
            'forget: NUL in key' => [static fn (IdempotencyStore $s) => $s->forget("\0x")],
        ];
    }

    /** @dataProvider badCalls */
    #[DataProvider('badCalls')]
    public function testBadInputIsInvalidArgument(\Closure $call): void
    {
        $store = $this->store();
        $ran = false;
        try {
            $call($store, static function () use (&$ran): string {
                $ran = true;
                return 'x';
            });
            self::fail('accepted');
        } catch (InvalidArgumentException) {
        }
        self::assertFalse($ran, 'the callback ran');
        self::assertSame([], $this->resp()->keys($this->prefix . '*'), 'something was written');
    }

    /** @return array<string, array{array<string, mixed>}> */
    public static function badOptions(): array
    {
        return [
            'unknown option' => [['retention' => 10]],
            'unknown option, close to a known one' => [['in_progress_ttl' => 1000]],
            'unknown option with int key' => [[0 => 'x']],
            'retention_s as string' => [['retention_s' => '86400']],
            'retention_s as float' => [['retention_s' => 1.5]],
            'retention_s as null' => [['retention_s' => null]],
            'retention_s as bool' => [['retention_s' => true]],
            'retention_s as array' => [['retention_s' => [1]]],
            'retention_s zero' => [['retention_s' => 0]],
            'retention_s negative' => [['retention_s' => -1]],
            'in_progress_ttl_ms as string' => [['in_progress_ttl_ms' => '1000']],
            'in_progress_ttl_ms as float' => [['in_progress_ttl_ms' => 1000.0]],
            'in_progress_ttl_ms as object' => [['in_progress_ttl_ms' => new \stdClass()]],
            'in_progress_ttl_ms zero' => [['in_progress_ttl_ms' => 0]],
            'in_progress_ttl_ms negative' => [['in_progress_ttl_ms' => -5]],
            'redis_url as int' => [['redis_url' => 6379]],
            'key_prefix as array' => [['key_prefix' => ['a']]],
            'allowed_classes as string' => [['allowed_classes' => 'stdClass']],
            'allowed_classes with an int' => [['allowed_classes' => [1]]],
            'allowed_classes with an empty name' => [['allowed_classes' => ['']]],
            'allowed_classes with a bad name' => [['allowed_classes' => ['Foo Bar']]],
            'allowed_classes with a nested list' => [['allowed_classes' => [['stdClass']]]],
        ];
    }

    /** @dataProvider badOptions */
    #[DataProvider('badOptions')]
    public function testBadOptionsAreInvalidArgument(array $options): void
    {
        $this->expectException(InvalidArgumentException::class);
        new IdempotencyStore($options + $this->options());
    }
}

final class IdempotencyTestException extends \RuntimeException
{
    public array $detail = [];
}
