<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Lease;
use Monei\Concurrency\LockLostException;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\PhpProcess;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use Monei\Concurrency\WebhookSignature;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * Bad input is refused with the documented exception, before anything
 * touches Redis or runs the callback, and never crashes the process.
 */
final class BadInputTest extends RedisTestCase
{
    private bool $ran = false;

    /** @return array<string, callable(ProcessingLock, OrderLockManager, callable): mixed> every entry point taking ids */
    private static function idCalls(string $order, string $payment): array
    {
        return [
            'executeWithLock' => fn ($pl, $m, $cb) => $pl->executeWithLock($order, $payment, $cb),
            'acquire' => fn ($pl, $m, $cb) => $pl->acquire($order, $payment, 0),
            'tryAcquire' => fn ($pl, $m, $cb) => $pl->tryAcquire($order, $payment),
            'isLocked' => fn ($pl, $m, $cb) => $pl->isLocked($order, $payment),
        ];
    }

    /** @return array<string, callable> order-lock entry points */
    private static function orderCalls(string $order): array
    {
        return [
            'lock' => fn ($pl, $m, $cb) => $m->lock($order, 0),
            'unlock' => fn ($pl, $m, $cb) => $m->unlock($order),
            'isLocked (order)' => fn ($pl, $m, $cb) => $m->isLocked($order),
            'waitForUnlock' => fn ($pl, $m, $cb) => $m->waitForUnlock($order, 0),
            'executeWithOrderLock' => fn ($pl, $m, $cb) => $m->executeWithOrderLock($order, $cb),
        ];
    }

    /** @return iterable<string, array{string, string, string}> order id, payment id, message excerpt */
    public static function badIds(): iterable
    {
        yield 'empty order id' => ['', 'pay', 'order id must not be empty'];
        yield 'empty payment id' => ['100', '', 'payment id must not be empty'];
        yield 'order id of 256 bytes' => [str_repeat('1', 256), 'pay', 'at most 255 bytes'];
        yield 'payment id of 256 bytes' => ['100', str_repeat('p', 256), 'at most 255 bytes'];
        yield 'order id of 128 two-byte characters' => [str_repeat('é', 128), 'pay', 'at most 255 bytes'];
        yield 'NUL in order id' => ["100\0" . '1', 'pay', 'NUL'];
        yield 'NUL in payment id' => ['100', "pay\0", 'NUL'];
        yield 'only NUL' => ["\0", 'pay', 'NUL'];
    }

    /** @dataProvider badIds */
    #[DataProvider('badIds')]
    public function testBadIdsAreRefused(string $order, string $payment, string $message): void
    {
        $calls = self::idCalls($order, $payment);
        if ($payment === 'pay') {
            $calls += self::orderCalls($order);
        }
        $this->assertEachRefused($calls, InvalidArgumentException::class, $message);
    }

    public function testIdsAtTheLimitsAreAccepted(): void
    {
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        $long = str_repeat('9', 255);
        self::assertSame("payment:$long:" . str_repeat('p', 255), $pl->executeWithLock($long, str_repeat('p', 255), fn (Lease $l) => $l->resource(), 0));
        self::assertTrue($m->lock($long, 0));
        self::assertTrue($m->unlock($long));
        // Any other byte is fine, and separators cannot make two ids collide.
        $odd = "a:b{c}%d \xff\n";
        self::assertSame('ok', $pl->executeWithLock($odd, $odd, fn () => 'ok', 0));
        $held = $pl->acquire('1:2', '3', 0);
        self::assertNotNull($pl->tryAcquire('1', '2:3'), '("1:2","3") and ("1","2:3") are different locks');
        self::assertTrue($m->lock('1:2', 0), 'the order lock is not the payment lock');
        self::assertTrue($m->unlock('1:2'));
        self::assertTrue($held->release());
        // Integers are taken as their decimal form.
        $lease = $pl->acquire(100000123, 1, 0);
        self::assertSame('payment:100000123:1', $lease->resource());
        self::assertTrue($pl->isLocked('100000123', '1'));
        self::assertTrue($lease->release());
    }

    /** @return iterable<string, array{int}> */
    public static function badTtls(): iterable
    {
        yield 'zero' => [0];
        yield 'negative' => [-1];
        yield 'very negative' => [PHP_INT_MIN];
        yield 'one day + 1 ms' => [86400001];
        yield 'huge' => [PHP_INT_MAX];
    }

    /** @dataProvider badTtls */
    #[DataProvider('badTtls')]
    public function testBadTtlsAreRefused(int $ttl): void
    {
        $lease = (new ProcessingLock($this->options()))->acquire('200', 'other', 0);
        $this->assertEachRefused([
            'executeWithLock' => fn ($pl, $m, $cb) => $pl->executeWithLock('100', 'pay', $cb, 0, $ttl),
            'acquire' => fn ($pl, $m, $cb) => $pl->acquire('100', 'pay', 0, $ttl),
            'tryAcquire' => fn ($pl, $m, $cb) => $pl->tryAcquire('100', 'pay', $ttl),
            'lock' => fn ($pl, $m, $cb) => $m->lock('100', 0, $ttl),
            'executeWithOrderLock' => fn ($pl, $m, $cb) => $m->executeWithOrderLock('100', $cb, 0, $ttl),
            'Lease::extend' => fn ($pl, $m, $cb) => $lease->extend($ttl),
        ], InvalidArgumentException::class, 'ttlMs must be between 1 and 86400000 ms');
        self::assertTrue($lease->isHeld(), 'a refused extend() leaves the lease alone');
        self::assertTrue($lease->release());
    }

    public function testTheLongestTtlIsAccepted(): void
    {
        $pl = new ProcessingLock($this->options());
        $lease = $pl->acquire('100', 'pay', 0, 86400000);
        self::assertGreaterThan(86000000, $lease->remainingMs());
        $lease->extend(86400000);
        self::assertTrue($lease->release());
        // The shortest ttl (1 ms) is accepted too. The lease may well expire
        // before the release, which is then reported as lost: either outcome
        // shows the ttl passed validation.
        try {
            self::assertSame(1, $pl->executeWithLock('100', 'pay', fn () => 1, 0, 1));
        } catch (\Monei\Concurrency\LockLostException) {
            self::assertFalse($pl->isLocked('100', 'pay'));
        }
    }

    /** @return iterable<string, array{int}> */
    public static function badWaits(): iterable
    {
        yield 'negative' => [-1];
        yield 'very negative' => [PHP_INT_MIN];
        yield 'one day + 1 ms' => [86400001];
    }

    /** @dataProvider badWaits */
    #[DataProvider('badWaits')]
    public function testBadWaitsAreRefused(int $wait): void
    {
        $this->assertEachRefused([
            'executeWithLock' => fn ($pl, $m, $cb) => $pl->executeWithLock('100', 'pay', $cb, $wait),
            'acquire' => fn ($pl, $m, $cb) => $pl->acquire('100', 'pay', $wait),
            'lock' => fn ($pl, $m, $cb) => $m->lock('100', $wait),
            'waitForUnlock' => fn ($pl, $m, $cb) => $m->waitForUnlock('100', $wait),
            'executeWithOrderLock' => fn ($pl, $m, $cb) => $m->executeWithOrderLock('100', $cb, $wait),
        ], InvalidArgumentException::class, 'waitMs must be between 0 and 86400000 ms');
    }

    /** @return iterable<string, array{array, string}> */
    public static function badOptions(): iterable
    {
        yield 'unknown key' => [['lock_ttl' => 5], 'unknown option "lock_ttl"'];
        yield 'integer key' => [[5 => 'x'], 'unknown option "5"'];
        yield 'lock_ttl_ms as string' => [['lock_ttl_ms' => '5'], 'option "lock_ttl_ms" must be of type int, string given'];
        yield 'lock_wait_ms as float' => [['lock_wait_ms' => 1.5], 'option "lock_wait_ms" must be of type int, float given'];
        yield 'io_timeout_ms as bool' => [['io_timeout_ms' => true], 'must be of type int, bool given'];
        yield 'max_hold_ms as null' => [['max_hold_ms' => null], 'must be of type int, null given'];
        yield 'redis_url as int' => [['redis_url' => 5], 'option "redis_url" must be of type string, int given'];
        yield 'redis_url as array' => [['redis_url' => ['redis://x']], 'must be of type string, array given'];
        yield 'key_prefix as object' => [['key_prefix' => new \stdClass()], 'must be of type string, object given'];
        yield 'lock_ttl_ms zero' => [['lock_ttl_ms' => 0], 'lock_ttl_ms must be between 1 and 86400000'];
        yield 'lock_ttl_ms over a day' => [['lock_ttl_ms' => 86400001], 'lock_ttl_ms must be between 1 and 86400000'];
        yield 'lock_wait_ms negative' => [['lock_wait_ms' => -1], 'lock_wait_ms must be between 0 and 86400000'];
        yield 'connect_timeout_ms zero' => [['connect_timeout_ms' => 0], 'connect_timeout_ms must be between 1'];
        yield 'redis_url of another scheme' => [['redis_url' => 'http://127.0.0.1:6379'], 'http://127.0.0.1:6379'];
        yield 'redis_url unparsable' => [['redis_url' => 'redis://127.0.0.1:notaport'], 'invalid redis_url'];
        yield 'key_prefix with a brace' => [['key_prefix' => 'a{b'], 'key_prefix must be at most 64 bytes'];
        yield 'key_prefix with NUL' => [['key_prefix' => "a\0b"], 'key_prefix must be at most 64 bytes'];
        yield 'key_prefix too long' => [['key_prefix' => str_repeat('k', 65)], 'key_prefix must be at most 64 bytes'];
    }

    /** @dataProvider badOptions */
    #[DataProvider('badOptions')]
    public function testBadOptionsAreRefusedByBothConstructors(array $options, string $message): void
    {
        foreach ([ProcessingLock::class, OrderLockManager::class] as $class) {
            try {
                new $class($options);
                self::fail("$class accepted " . var_export($options, true));
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString($message, $e->getMessage(), $class);
                self::assertInstanceOf(\InvalidArgumentException::class, $e);
                self::assertNotInstanceOf(ConcurrencyException::class, $e);
            }
        }
    }

    public function testAPasswordInAnUnparsableUrlIsMasked(): void
    {
        try {
            new ProcessingLock(['redis_url' => 'redis://app:S3cr3tPw@127.0.0.1:notaport']);
            self::fail('accepted');
        } catch (InvalidArgumentException $e) {
            self::assertStringNotContainsString('S3cr3tPw', $e->getMessage());
            self::assertStringContainsString('app:***@', $e->getMessage());
        }
    }

    /** @return iterable<string, array{\Closure}> */
    public static function typeErrors(): iterable
    {
        yield 'non-callable string' => [fn ($pl, $m) => $pl->executeWithLock('100', 'pay', 'no_such_function_xyz')];
        yield 'integer callback' => [fn ($pl, $m) => $pl->executeWithLock('100', 'pay', 42)];
        yield 'array that is not a callable' => [fn ($pl, $m) => $m->executeWithOrderLock('100', ['NoSuchClass', 'nope'])];
        yield 'array as id' => [fn ($pl, $m) => $pl->executeWithLock([], 'pay', fn () => null)];
        yield 'null as id' => [fn ($pl, $m) => $m->lock(null)];
        yield 'object as id' => [fn ($pl, $m) => $pl->tryAcquire(new \stdClass(), 'pay')];
        yield 'string waitMs' => [fn ($pl, $m) => $pl->acquire('100', 'pay', 'soon')];
        yield 'array ttlMs' => [fn ($pl, $m) => $pl->acquire('100', 'pay', 0, [])];
        yield 'options not an array' => [fn ($pl, $m) => new ProcessingLock('redis://127.0.0.1')];
    }

    /** @dataProvider typeErrors */
    #[DataProvider('typeErrors')]
    public function testWrongPhpTypesRaiseTypeError(\Closure $call): void
    {
        $this->ran = false;
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        try {
            $call($pl, $m);
            self::fail('accepted');
        } catch (\TypeError $e) {
            self::assertNotSame('', $e->getMessage());
        }
        self::assertSame([], $this->resp()->keys($this->prefix . '*'), 'nothing reached Redis');
    }

    public function testMissingArgumentsRaiseArgumentCountError(): void
    {
        $this->expectException(\ArgumentCountError::class);
        (new ProcessingLock($this->options()))->executeWithLock('100', 'pay');
    }

    public function testLeasesCannotBeForged(): void
    {
        self::assertNotConstructible(
            fn () => new Lease(),
            'Direct instantiation of Monei\Concurrency\Lease is not allowed; leases come from acquire(), tryAcquire() and the execute* callbacks',
        );
        try {
            (new \ReflectionClass(Lease::class))->newInstanceWithoutConstructor();
            self::fail('instantiated without constructor');
        } catch (\ReflectionException) {
        }
        self::assertFalse(@unserialize('O:24:"Monei\Concurrency\Lease":0:{}'));

        $lease = (new ProcessingLock($this->options()))->acquire('100', 'pay', 0);
        $token = $lease->token();
        self::assertNotConstructible(
            fn () => $lease->__construct(),
            'Direct instantiation of Monei\Concurrency\Lease is not allowed; leases come from acquire(), tryAcquire() and the execute* callbacks',
        );
        // The failed call left the lease as it was.
        self::assertSame($token, $lease->token());
        self::assertTrue($lease->isHeld());
        try {
            clone $lease;
            self::fail('a lease was cloned');
        } catch (\Error $e) {
            self::assertStringContainsString('clone', $e->getMessage());
        }
        try {
            serialize($lease);
            self::fail('a lease was serialized');
        } catch (\Exception $e) {
            self::assertStringContainsString('not allowed', $e->getMessage());
        }
        self::assertTrue($lease->release());
    }

    public function testWebhookSignatureIsStaticOnly(): void
    {
        self::assertNotConstructible(
            fn () => new WebhookSignature(),
            'Direct instantiation of Monei\Concurrency\WebhookSignature is not allowed; call WebhookSignature::verify() statically',
        );
    }

    /** $construct must throw exactly an \Error (not a subclass) with $message. */
    private static function assertNotConstructible(callable $construct, string $message): void
    {
        try {
            $construct();
            self::fail("constructed: $message");
        } catch (\Error $e) {
            self::assertSame(\Error::class, get_class($e));
            self::assertSame($message, $e->getMessage());
        }
    }

    public function testAbuseInAChildProcessDoesNotCrashIt(): void
    {
        // The same misuse without PHPUnit's error handling around it: must end cleanly.
        [$code, $out, $err] = PhpProcess::run(<<<'PHP'
            <?php
            use Monei\Concurrency\{Lease, OrderLockManager, ProcessingLock};
            $o = ['redis_url' => getenv('REDIS_URL'), 'key_prefix' => $argv[1]];
            $pl = new ProcessingLock($o);
            $m = new OrderLockManager($o);
            $n = 0;
            $calls = [
                fn () => $pl->executeWithLock("\0", 'p', fn () => 1),
                fn () => $pl->executeWithLock('o', 'p', 'nope'),
                fn () => $pl->acquire('o', 'p', -5, -5),
                fn () => $m->lock(str_repeat('x', 100000)),
                fn () => $m->waitForUnlock('o', PHP_INT_MIN),
                fn () => new ProcessingLock(['redis_url' => str_repeat('x', 100000)]),
                fn () => new ProcessingLock(['key_prefix' => str_repeat("\xff", 64)]),
                fn () => clone $pl,
                fn () => unserialize(serialize($pl)),
                fn () => (new ReflectionClass(ProcessingLock::class))->newInstanceWithoutConstructor(),
                fn () => $pl->executeWithLock('o', 'p', fn (Lease $l) => $l->extend(0)),
                fn () => $pl->executeWithLock('o', 'p', fn (Lease $l) => $pl->executeWithLock('o', 'p', 'nope')),
            ];
            foreach ($calls as $c) {
                try { $c(); } catch (Throwable $e) { $n++; }
            }
            gc_collect_cycles();
            echo "$n thrown, locked: ", var_export($pl->isLocked('o', 'p'), true);
            PHP, [$this->prefix]);
        self::assertSame('', $err);
        self::assertSame(0, $code);
        self::assertSame('12 thrown, locked: false', $out);
    }

    public function testExceptionClassesBehaveLikeAnyException(): void
    {
        $prev = new \LogicException('inner');
        foreach ([LockTimeoutException::class, LockLostException::class, BackendUnavailableException::class, ConcurrencyException::class] as $class) {
            $e = new $class('m', 3, $prev);
            self::assertSame('m', $e->getMessage());
            self::assertSame(3, $e->getCode());
            self::assertSame($prev, $e->getPrevious());
            self::assertInstanceOf(\RuntimeException::class, $e);
            self::assertInstanceOf(ConcurrencyException::class, $e);
            self::assertSame(__LINE__ - 6, $e->getLine());
            try {
                throw $e;
            } catch (ConcurrencyException $caught) {
                self::assertSame($e, $caught);
            }
        }
        $e = new InvalidArgumentException('bad', 4, $prev);
        self::assertInstanceOf(\InvalidArgumentException::class, $e);
        self::assertInstanceOf(\LogicException::class, $e);
        self::assertSame($prev, $e->getPrevious());
        $default = new LockTimeoutException();
        self::assertSame('', $default->getMessage());
        self::assertSame(0, $default->getCode());
        $custom = new class ('sub', 9) extends LockTimeoutException {
        };
        self::assertInstanceOf(LockTimeoutException::class, $custom);
        self::assertSame(9, $custom->getCode());
        self::assertStringContainsString('sub', (string) $custom);
    }

    /** @param array<string, callable> $calls */
    private function assertEachRefused(array $calls, string $class, string $message): void
    {
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        $ran = false;
        $cb = function () use (&$ran) {
            $ran = true;
        };
        foreach ($calls as $name => $call) {
            try {
                $call($pl, $m, $cb);
                self::fail("$name accepted the input");
            } catch (\Throwable $e) {
                self::assertSame($class, get_class($e), "$name: " . $e->getMessage());
                self::assertStringContainsString($message, $e->getMessage(), $name);
            }
        }
        self::assertFalse($ran, 'a callback ran');
        $keys = array_filter($this->resp()->keys($this->prefix . '*'), fn ($k) => !str_contains($k, '{200}'));
        self::assertSame([], array_values($keys), 'nothing reached Redis');
    }
}
