<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

require_once __DIR__ . '/Support/OpsTestCase.php';

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\OpsTestCase;
use Monei\Concurrency\Tests\Support\PhpProcess;
use Monei\Concurrency\Tests\Support\RedisServer;

use function Monei\Concurrency\setLogger;

/** The shape of Psr\Log\LoggerInterface::log(), without Composer. */
final class TinyPsrLogger
{
    /** @var list<array{level: string, message: string, context: array}> */
    public array $records = [];

    public function log($level, string|\Stringable $message, array $context = []): void
    {
        $replace = [];
        foreach ($context as $k => $v) {
            if (is_scalar($v) || $v instanceof \Stringable) {
                $replace['{' . $k . '}'] = (string) $v;
            }
        }
        $this->records[] = ['level' => (string) $level, 'message' => strtr((string) $message, $replace), 'context' => $context];
    }

    /** @return list<string> */
    public function messages(): array
    {
        return array_column($this->records, 'message');
    }
}

/**
 * setLogger(): lock events reach a PHP callable as (level, message, context),
 * at safe points only, never recursively, for the current request only.
 */
final class OpsLoggerTest extends OpsTestCase
{
    private const LEVELS = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];

    /** @var list<array{0: string, 1: string, 2: array}> */
    private array $events = [];

    private function collect(): void
    {
        $this->events = [];
        setLogger(function (string $level, string $message, array $context): void {
            $this->events[] = [$level, $message, $context];
        });
    }

    /** @return list<array{0: string, 1: string, 2: array}> events with this message */
    private function eventsNamed(string $message): array
    {
        return array_values(array_filter($this->events, fn ($e) => $e[1] === $message));
    }

    private function assertOneEvent(string $level, string $message, array $context): array
    {
        $found = $this->eventsNamed($message);
        self::assertCount(1, $found, "one \"$message\" event in " . json_encode($this->events));
        self::assertSame($level, $found[0][0], "level of \"$message\"");
        foreach ($context as $k => $v) {
            self::assertArrayHasKey($k, $found[0][2], "context of \"$message\"");
            if (is_callable($v)) {
                self::assertTrue($v($found[0][2][$k]), "context[$k] of \"$message\": " . json_encode($found[0][2][$k]));
            } else {
                self::assertSame($v, $found[0][2][$k], "context[$k] of \"$message\"");
            }
        }
        return $found[0];
    }

    public function testAcquiredReleasedSlowAndLost(): void
    {
        $pl = new ProcessingLock($this->options(['slow_hold_ms' => 50]));
        $this->collect();

        $lease = $pl->acquire('1', 'fast');
        self::assertCount(1, $this->events, 'delivered before acquire() returns');
        $lease->release();
        $this->assertOneEvent('debug', 'lock acquired', ['resource' => 'payment:1:fast', 'token' => $lease->token(), 'waited_ms' => 'is_int']);
        $this->assertOneEvent('debug', 'lock released', ['resource' => 'payment:1:fast', 'token' => $lease->token()]);
        self::assertSame([], $this->eventsNamed('lock held longer than slow_hold_ms'), 'a short hold is not slow');

        $this->collect();
        $pl->executeWithLock('1', 'slow', fn () => usleep(100000));
        $this->assertOneEvent('warning', 'lock held longer than slow_hold_ms', [
            'resource' => 'payment:1:slow',
            'held_ms' => fn ($ms) => is_int($ms) && $ms >= 100 && $ms < 5000,
            'slow_hold_ms' => 50,
        ]);

        $this->collect();
        $short = $pl->acquire('1', 'lost', 0, 50);
        usleep(120000);
        self::assertFalse($short->release());
        $this->assertOneEvent('error', 'lock lost', ['resource' => 'payment:1:lost', 'token' => $short->token(), 'reason' => 'is_string']);
        self::assertSame([], $this->eventsNamed('lock released'), 'a lost lease is not reported as released');

        foreach ($this->events as [$level]) {
            self::assertContains($level, self::LEVELS, 'PSR-3 level names');
        }
    }

    public function testTimedOutForcedAndBackendErrors(): void
    {
        $this->holdInChild(static fn (array $o): array => ['locked' => (new OrderLockManager($o))->lock('2', 0)]);
        $m = new OrderLockManager($this->options());
        $this->collect();
        self::assertFalse($m->lock('2', 100));
        $this->assertOneEvent('warning', 'lock wait timed out', ['resource' => 'order:2', 'waited_ms' => fn ($ms) => $ms >= 100]);

        $this->collect();
        self::assertTrue($m->forceUnlock('2'));
        $this->assertOneEvent('warning', 'lock forced free', [
            'resource' => 'order:2',
            'by' => fn ($by) => str_contains($by, gethostname()) && str_contains($by, (string) getmypid()),
        ]);
        $this->releaseChild();

        $this->collect();
        $port = RedisServer::freePort();
        try {
            (new ProcessingLock(['redis_url' => "redis://127.0.0.1:$port"]))->acquire('2', 'x');
            self::fail('nothing listens there');
        } catch (BackendUnavailableException) {
        }
        $this->assertOneEvent('error', 'redis backend error', [
            'redis' => "redis://127.0.0.1:$port",
            'error' => fn ($e) => is_string($e) && $e !== '',
        ]);
    }

    public function testAPsr3LoggerPlugsInWithOneLine(): void
    {
        $psrLogger = new TinyPsrLogger();
        setLogger(fn ($level, $msg, $ctx) => $psrLogger->log($level, $msg, $ctx));
        (new OrderLockManager($this->options()))->executeWithOrderLock('3', fn () => null);
        self::assertSame(['lock acquired', 'lock released'], $psrLogger->messages());
        self::assertSame('debug', $psrLogger->records[0]['level']);
        self::assertSame('order:3', $psrLogger->records[0]['context']['resource']);

        // A [$object, 'method'] callable works as well.
        $other = new TinyPsrLogger();
        setLogger([$other, 'log']);
        (new OrderLockManager($this->options()))->executeWithOrderLock('3', fn () => null);
        self::assertSame(['lock acquired', 'lock released'], $other->messages());
        self::assertCount(2, $psrLogger->records, 'the previous logger was replaced');
    }

    public function testALoggerThatTakesLocksIsNotCalledRecursively(): void
    {
        $depth = 0;
        $maxDepth = 0;
        $calls = [];
        $pl = new ProcessingLock($this->options());
        setLogger(function (string $level, string $message, array $context) use (&$depth, &$maxDepth, &$calls, $pl): void {
            $depth++;
            $maxDepth = max($maxDepth, $depth);
            $calls[] = $message . ' ' . $context['resource'];
            if ($context['resource'] !== 'payment:log:audit') {
                // The logger itself uses the extension: events of its own lock are produced right here.
                $pl->executeWithLock('log', 'audit', fn () => null);
            }
            $depth--;
        });

        $lease = $pl->acquire('4', 'main');
        self::assertSame(1, $maxDepth, 'never called from inside itself');
        self::assertSame(['lock acquired payment:4:main'], $calls, 'the logger\'s own events are not delivered while it runs');

        $lease->release();
        self::assertSame(1, $maxDepth);
        // At the next safe point: the logger's own events of the first call, then the release.
        self::assertSame([
            'lock acquired payment:4:main',
            'lock acquired payment:log:audit',
            'lock released payment:log:audit',
            'lock released payment:4:main',
        ], $calls);

        (new ProcessingLock($this->options()))->isLocked('4', 'main');
        self::assertSame([
            'lock acquired payment:log:audit',
            'lock released payment:log:audit',
        ], array_slice($calls, 4), 'the events of the logger\'s lock during the last delivery come at the next call');
        self::assertSame(1, $maxDepth);
        self::assertFalse($pl->isLocked('log', 'audit'));
    }

    public function testALoggerThatThrowsDoesNotBreakTheLockCall(): void
    {
        $calls = 0;
        setLogger(function () use (&$calls): void {
            $calls++;
            throw new \RuntimeException('logger broken');
        });
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire('5', 'p');
        self::assertTrue($lease->isHeld());
        self::assertTrue($lease->release());
        self::assertSame(42, $pl->executeWithLock('5', 'p', fn () => 42));
        self::assertGreaterThanOrEqual(4, $calls, 'called for every event despite throwing');

        // The callback's own exception still wins, unchanged.
        try {
            $pl->executeWithLock('5', 'p', function (): void {
                throw new \DomainException('from the callback');
            });
            self::fail('the callback threw');
        } catch (\DomainException $e) {
            self::assertSame('from the callback', $e->getMessage());
        }
        self::assertFalse($pl->isLocked('5', 'p'));
    }

    public function testSetLoggerNullStopsDelivery(): void
    {
        $this->collect();
        $pl = new ProcessingLock($this->options());
        $pl->executeWithLock('6', 'p', fn () => null);
        self::assertCount(2, $this->events);
        setLogger(null);
        $pl->executeWithLock('6', 'p', fn () => null);
        $lease = $pl->acquire('6', 'q', 0, 30);
        usleep(60000);
        $lease->release();
        self::assertCount(2, $this->events, 'nothing after setLogger(null)');

        // Events that happened while no logger was set are not delivered later either.
        $this->collect();
        $pl->isLocked('6', 'p');
        self::assertSame([], $this->events);
    }

    public function testTheLoggerIsNotCalledAtRequestEndAndTheProcessExitsCleanly(): void
    {
        $log = $this->tmp('logger.log');
        $code = <<<'PHP'
<?php
[, $log, $url, $prefix] = $argv;
Monei\Concurrency\setLogger(function (string $level, string $message, array $context) use ($log): void {
    file_put_contents($log, "$level $message " . json_encode($context) . "\n", FILE_APPEND);
});
register_shutdown_function(function () use ($log) {
    file_put_contents($log, "shutdown function\n", FILE_APPEND);
});
$m = new Monei\Concurrency\OrderLockManager(['redis_url' => $url, 'key_prefix' => $prefix]);
$m->lock('7', 0);
$lease = (new Monei\Concurrency\ProcessingLock(['redis_url' => $url, 'key_prefix' => $prefix]))->acquire('7', 'p');
$GLOBALS['keep'] = $lease;
echo "done\n";
// ends with both locks still held
PHP;
        [$exit, $out, $err] = PhpProcess::run($code, [$log, self::redisUrl(), $this->prefix]);
        self::assertSame(0, $exit, "stderr: $err");
        self::assertSame('', $err);
        self::assertSame("done\n", $out);
        $lines = file($log, FILE_IGNORE_NEW_LINES);
        self::assertStringStartsWith('debug lock acquired {"resource":"order:7"', $lines[0]);
        self::assertStringStartsWith('debug lock acquired {"resource":"payment:7:p"', $lines[1]);
        // The user's shutdown function is the last thing logged: the request-end
        // release happens in RSHUTDOWN, where no user code runs (a logger that
        // threw or exited there crashed the process).
        self::assertSame(['shutdown function'], array_slice($lines, 2), implode("\n", $lines));
        self::assertFalse((new OrderLockManager($this->options()))->isLocked('7'));
    }

    public function testALoggerThatExitsOrThrowsIsSafeAtRequestEnd(): void
    {
        foreach (['exit(3);', 'throw new Exception("x");'] as $body) {
            $code = '<?php [, $url, $prefix] = $argv;'
                . ' Monei\Concurrency\setLogger(function () { ' . $body . ' });'
                . ' (new Monei\Concurrency\ProcessingLock(["redis_url" => $url, "key_prefix" => $prefix]))'
                . '->executeWithLock("8", "p", fn () => exit(2), 1000, 1000);';
            [$exit, , $err] = PhpProcess::run($code, [self::redisUrl(), $this->prefix]);
            self::assertSame(2, $exit, "logger { $body }: $err");
        }
        self::assertFalse((new ProcessingLock($this->options()))->isLocked('8', 'p'));
    }
}
