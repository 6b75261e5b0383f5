<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\OpsTestCase;
use Monei\Concurrency\Tests\Support\RedisServer;

/**
 * php/bin/monei-locks, run as a separate php process against locks held by
 * a live forked child.
 */
final class OpsCliTest extends OpsTestCase
{
    private const ORDER = '100000900';
    private const PAY = 'pay_cli';

    /** A child that holds the order lock and one payment lock of ORDER until released. */
    private function childHoldsTwoLocks(): array
    {
        return $this->holdInChild(
            static function (array $o): array {
                $m = new OrderLockManager($o);
                $m->lock(self::ORDER, 0);
                $lease = (new ProcessingLock($o))->acquire(self::ORDER, self::PAY);
                return ['order' => $m->inspect(self::ORDER)['token'], 'payment' => $lease->token(), 'lease' => $lease, 'm' => $m];
            },
            static fn (array $s): array => ['payment' => $s['lease']->release(), 'order' => $s['m']->unlock(self::ORDER)],
        );
    }

    private static function assertNoStackTrace(string $out, string $err): void
    {
        foreach (['Stack trace', 'PHP Fatal', 'PHP Warning', 'Uncaught', '#0 '] as $s) {
            self::assertStringNotContainsString($s, $out . $err);
        }
    }

    /** The table rows of `list`/`show`, split on runs of 2+ spaces. */
    private static function rows(string $out): array
    {
        $lines = array_values(array_filter(explode("\n", $out), fn ($l) => $l !== ''));
        self::assertMatchesRegularExpression('/^RESOURCE\s+TOKEN\s+HOLDER \(HOST:PID\)\s+REQUEST\s+HELD FOR\s+TTL LEFT\s+WAITERS$/', $lines[0]);
        $rows = [];
        foreach (array_slice($lines, 1) as $l) {
            if (str_starts_with($l, '(') || !str_contains($l, '  ')) {
                continue;
            }
            $rows[] = preg_split('/\s{2,}/', trim($l));
        }
        return $rows;
    }

    public function testListShowsTheLocksOfAnotherLiveProcess(): void
    {
        $child = $this->childHoldsTwoLocks();
        $pid = $this->childPid();

        [$code, $out, $err] = $this->cli('list');
        self::assertSame(0, $code, $err);
        self::assertSame('', $err);
        $rows = self::rows($out);
        self::assertCount(2, $rows, $out);
        self::assertSame(['order:' . self::ORDER, (string) $child['state']['order'], gethostname() . ":$pid", $child['request']], array_slice($rows[0], 0, 4));
        self::assertSame(['payment:' . self::ORDER . ':' . self::PAY, (string) $child['state']['payment'], gethostname() . ":$pid", $child['request']], array_slice($rows[1], 0, 4));
        foreach ($rows as $r) {
            self::assertCount(7, $r);
            self::assertMatchesRegularExpression('/^\d+(ms|\.\d+s)$/', $r[4], 'held for');
            self::assertMatchesRegularExpression('/^\d+\.\d+s$/', $r[5], 'ttl left (30 s lease)');
            self::assertSame('0', $r[6], 'waiters');
        }
        // Columns are aligned: every row as long as the header (after trailing blanks are cut, the header is the widest or equal).
        $lines = explode("\n", rtrim($out));
        self::assertSame(strlen($lines[0]), strlen($lines[1]));
        self::assertSame(strpos($lines[0], 'TOKEN') + 5, strpos($lines[1], (string) $child['state']['order']) + strlen((string) $child['state']['order']), 'tokens right-aligned under TOKEN');

        [$code, $out] = $this->cli('list', 'payment:*');
        self::assertSame(0, $code);
        self::assertCount(1, self::rows($out));
        [$code, $out] = $this->cli('list', '--limit', '1');
        self::assertSame(0, $code);
        self::assertSame('order:' . self::ORDER, self::rows($out)[0][0]);
        self::assertStringContainsString('--limit', $out, 'says the list was cut');
        [$code, $out] = $this->cli('list', 'order:nothing*');
        self::assertSame(0, $code);
        self::assertSame("No held locks match order:nothing*.\n", $out);

        [$code, $out, $err] = $this->cli('--json', 'list');
        self::assertSame(0, $code, $err);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(2, $doc['count']);
        self::assertSame($this->prefix, $doc['key_prefix']);
        self::assertSame(['order:' . self::ORDER, 'payment:' . self::ORDER . ':' . self::PAY], array_column($doc['locks'], 'resource'));
        self::assertSame([$pid, $pid], array_column($doc['locks'], 'pid'));
        self::assertSame([$child['state']['order'], $child['state']['payment']], array_column($doc['locks'], 'token'));
        self::assertSame([gethostname(), gethostname()], array_column($doc['locks'], 'host'));
        self::assertSame([$child['request'], $child['request']], array_column($doc['locks'], 'request'));

        self::assertSame(['payment' => true, 'order' => true], $this->releaseChild(), 'the CLI changed nothing');
        [$code, $out] = $this->cli('list');
        self::assertSame(0, $code);
        self::assertSame("No locks held.\n", $out);
    }

    public function testShowListsTheOrderLockAndThePaymentLocksOfThatOrderOnly(): void
    {
        $child = $this->childHoldsTwoLocks();
        // Look-alikes that are not locks of ORDER: another order with ORDER as prefix, and order "ORDER:x".
        $pl = new ProcessingLock($this->options());
        $others = [$pl->acquire(self::ORDER . '1', 'p'), $pl->acquire(self::ORDER . ':x', 'y')];

        [$code, $out, $err] = $this->cli('show', self::ORDER);
        self::assertSame(0, $code, $err);
        $rows = self::rows($out);
        self::assertSame(['order:' . self::ORDER, 'payment:' . self::ORDER . ':' . self::PAY], array_column($rows, 0));
        self::assertSame(gethostname() . ':' . $this->childPid(), $rows[0][2]);

        [$code, $out] = $this->cli('--json', 'show', self::ORDER);
        self::assertSame(0, $code);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(self::ORDER, $doc['order']);
        self::assertSame($child['state']['order'], $doc['order_lock']['token']);
        self::assertSame(['payment:' . self::ORDER . ':' . self::PAY], array_column($doc['payment_locks'], 'resource'));

        [$code, $out] = $this->cli('show', self::ORDER . ':x');
        self::assertSame(0, $code);
        self::assertSame(['payment:' . self::ORDER . ':x:y'], array_column(self::rows($out), 0));
        self::assertStringContainsString('order lock of ' . self::ORDER . ':x is free', $out);

        [$code, $out] = $this->cli('show', '999');
        self::assertSame(0, $code);
        self::assertSame("No locks held for order 999.\n", $out);
        foreach ($others as $l) {
            $l->release();
        }
        $this->releaseChild();
    }

    public function testUnlockNeedsForceAndFreesTheLock(): void
    {
        $this->childHoldsTwoLocks();
        $m = new OrderLockManager($this->options());

        [$code, $out, $err] = $this->cli('unlock', self::ORDER);
        self::assertSame(64, $code);
        self::assertSame('', $out);
        self::assertStringContainsString('--force', $err);
        self::assertTrue($m->isLocked(self::ORDER), 'refused: still held');

        [$code, $out, $err] = $this->cli('unlock', self::ORDER, '--force');
        self::assertSame(0, $code, $err);
        self::assertStringStartsWith('Freed order:' . self::ORDER . ' (held by ' . gethostname() . ':' . $this->childPid(), $out);
        self::assertFalse($m->isLocked(self::ORDER));
        self::assertTrue((new ProcessingLock($this->options()))->isLocked(self::ORDER, self::PAY), 'the payment lock is another lock');
        $forced = $this->resp()->hgetall($this->orderKey(self::ORDER, 'forced'));
        self::assertStringEndsWith("\t" . realpath(self::cliPath()), $forced['by'], 'the CLI is recorded as who forced it');

        [$code, $out] = $this->cli('unlock', self::ORDER, '--force');
        self::assertSame(1, $code, 'nothing to free');
        self::assertSame('Nothing freed: order:' . self::ORDER . " was not locked.\n", $out);

        [$code, $out, $err] = $this->cli('--json', 'unlock', self::ORDER, '--payment', self::PAY, '--force');
        self::assertSame(0, $code, $err);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertTrue($doc['freed']);
        self::assertSame('payment:' . self::ORDER . ':' . self::PAY, $doc['resource']);
        self::assertSame($this->childPid(), $doc['holder']['pid']);
        self::assertFalse((new ProcessingLock($this->options()))->isLocked(self::ORDER, self::PAY));

        self::assertSame(['payment' => false, 'order' => false], $this->releaseChild(), 'the holder lost both locks');
    }

    public function testStats(): void
    {
        $this->childHoldsTwoLocks();
        $options = $this->options();
        $waiter = Forker::spawn(static fn () => (new OrderLockManager($options))->executeWithOrderLock(self::ORDER, fn () => true, 20000));
        self::waitUntil(fn () => (new OrderLockManager($this->options()))->inspect(self::ORDER)['waiters'] === 1, 10, 'the waiter');

        [$code, $out, $err] = $this->cli('stats');
        self::assertSame(0, $code, $err);
        self::assertMatchesRegularExpression('/^Locks held\s+2$/m', $out);
        self::assertMatchesRegularExpression('/^  order locks\s+1$/m', $out);
        self::assertMatchesRegularExpression('/^  payment locks\s+1$/m', $out);
        self::assertMatchesRegularExpression('/^Waiters\s+1 \(on 1 lock\)$/m', $out);
        self::assertMatchesRegularExpression('/^Oldest hold\s+\S+\s+order:' . self::ORDER . ' by ' . preg_quote(gethostname()) . ':' . $this->childPid() . ' /m', $out);
        self::assertStringNotContainsString('acquired', $out, 'no per-process counters of the CLI itself');

        [$code, $out, $err] = $this->cli('stats', '--json');
        self::assertSame(0, $code, $err);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(2, $doc['held']);
        self::assertFalse($doc['truncated']);
        self::assertSame(['order' => 1, 'payment' => 1], $doc['by_kind']);
        self::assertSame([gethostname() => 2], $doc['by_host']);
        self::assertSame(1, $doc['waiters']);
        self::assertSame('order:' . self::ORDER, $doc['oldest']['resource']);

        $this->releaseChild();
        self::assertTrue($waiter->wait(10));
        [$code, $out] = $this->cli('stats', '--json');
        self::assertSame(0, $code);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(0, $doc['held']);
        self::assertNull($doc['oldest']);
    }

    public function testRedisDownExitsWith2AndAMaskedUrl(): void
    {
        $port = RedisServer::freePort();
        $secret = 'S3cret' . bin2hex(random_bytes(6));
        $sentinelSecret = 'Sent1nel' . bin2hex(random_bytes(6));
        $urls = [
            "redis://app:$secret@127.0.0.1:$port" => "redis://app:***@127.0.0.1:$port",
            // The sentinels' own password too (the CLI once masked only the first).
            "redis+sentinel://app:$secret@127.0.0.1:$port/mymaster?sentinel_password=$sentinelSecret"
                => "redis+sentinel://app:***@127.0.0.1:$port/mymaster?sentinel_password=***",
        ];
        foreach ($urls as $url => $masked) {
            foreach ([['list'], ['show', '1'], ['unlock', '1', '--force'], ['stats'], ['--json', 'list']] as $args) {
                [$code, $out, $err] = self::runPhp(array_merge([self::cliPath(), '--redis-url', $url], $args));
                $what = implode(' ', $args) . " on $masked";
                self::assertSame(2, $code, "$what: $out $err");
                self::assertSame('', $out, $what);
                self::assertStringStartsWith('monei-locks: ', $err);
                self::assertStringContainsString($masked, $err, $what);
                self::assertStringNotContainsString($secret, $err, $what);
                self::assertStringNotContainsString($sentinelSecret, $err, $what);
                self::assertSame(1, substr_count(rtrim($err), "\n") + 1, "$what: one line on stderr");
                self::assertNoStackTrace($out, $err);
            }
        }
    }

    public function testBadUsageExitsWith64(): void
    {
        foreach ([
            ['frobnicate'],
            ['list', '--limit', 'x'],
            ['list', '--limit', '0'],
            ['list', 'a', 'b'],
            ['show'],
            ['show', '1', '2'],
            ['unlock'],
            ['unlock', '1', '--payment'],
            ['stats', 'extra'],
            ['list', '--bogus'],
            ['--redis-url', 'http://example.com', 'list'],
            ['--prefix', 'a{b', 'list'],
            [],
        ] as $args) {
            [$code, $out, $err] = self::runPhp(array_merge([self::cliPath()], $args));
            $what = implode(' ', $args);
            self::assertSame(64, $code, "'$what': $out $err");
            self::assertSame('', $out, $what);
            self::assertNotSame('', $err, $what);
            self::assertNoStackTrace($out, $err);
        }
        [$code, $out, $err] = self::runPhp([self::cliPath(), '--help']);
        self::assertSame(0, $code);
        self::assertStringContainsString('Usage: monei-locks', $out);
        self::assertSame('', $err);
    }

    public function testWithoutTheExtension(): void
    {
        [$code, $out, $err] = self::runPhp(['-n', self::cliPath(), 'list']);
        self::assertSame(69, $code, $out . $err);
        self::assertStringContainsString('monei_concurrency extension is not loaded', $err);
        self::assertNoStackTrace($out, $err);
    }

    public function testTheScriptIsExecutable(): void
    {
        self::assertTrue(is_executable(self::cliPath()));
        self::assertSame("#!/usr/bin/env php\n", fgets(fopen(self::cliPath(), 'r')));
        [$code, $out, $err] = self::runPhp(['-l', self::cliPath()]);
        self::assertSame(0, $code, $out . $err);
    }
}
