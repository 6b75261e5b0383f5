<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * What once() stores and replays: scalars and arrays always, objects only
 * of the classes a store allows. A record planted in Redis (whoever can
 * write one key of a shared Redis) never makes a worker create an object of
 * another class, and never replays as a silently wrong value.
 */
final class IdempotencyResultFormatTest extends RedisTestCase
{
    protected function setUp(): void
    {
        parent::setUp();
        IdempotencyGadget::$events = [];
    }

    private function recordKey(string $key): string
    {
        return $this->prefix . '{' . $key . '}:once';
    }

    /** Writes a completed record by hand, as an attacker with access to Redis would. */
    private function plant(string $key, string $result): void
    {
        $this->resp()->command('HSET', $this->recordKey($key), 'state', 'completed', 'fp', '', 'result', $result);
    }

    private static function mustNotRun(): \Closure
    {
        return static function (): never {
            throw new \LogicException('the callback ran although the key was completed');
        };
    }

    /** @return array<string, array{string}> */
    public static function plantedObjects(): array
    {
        $gadget = serialize(new IdempotencyGadget());
        return [
            'object' => [$gadget],
            'object inside an array' => ['a:2:{s:2:"ok";b:1;s:1:"g";' . $gadget . '}'],
            'Serializable-style C: record' => ['C:' . strlen(IdempotencyGadget::class) . ':"' . IdempotencyGadget::class . '":0:{}'],
            'stdClass' => [serialize(new \stdClass())],
        ];
    }

    /** @dataProvider plantedObjects */
    #[DataProvider('plantedObjects')]
    public function testAPlantedObjectIsNeitherCreatedNorReplayed(string $planted): void
    {
        $this->plant('evil', $planted);
        $store = new IdempotencyStore($this->options());
        try {
            $store->once('evil', self::mustNotRun());
            self::fail('once() replayed a planted object');
        } catch (ConcurrencyException $e) {
            self::assertStringContainsString('evil', $e->getMessage());
            self::assertStringContainsString('not a value this store writes', $e->getMessage());
        }
        gc_collect_cycles();
        self::assertSame([], IdempotencyGadget::$events, 'a planted record ran code of a class nobody allowed');
    }

    /** @return array<string, array{string}> */
    public static function malformedRecords(): array
    {
        return [
            'garbage' => ['not serialized at all'],
            'truncated' => ['a:2:{i:0;i:1;'],
            'empty' => [''],
        ];
    }

    /** @dataProvider malformedRecords */
    #[DataProvider('malformedRecords')]
    public function testAMalformedRecordIsRefusedNotReplayedAsFalse(string $planted): void
    {
        $this->plant('bad', $planted);
        $this->expectException(ConcurrencyException::class);
        (new IdempotencyStore($this->options()))->once('bad', self::mustNotRun());
    }

    public function testAStoredFalseStillReplaysAsFalse(): void
    {
        $store = new IdempotencyStore($this->options());
        self::assertFalse($store->once('f', static fn (): bool => false));
        self::assertFalse($store->once('f', self::mustNotRun()));
    }

    /** @return array<string, array{\Closure(): mixed, string}> */
    public static function objectResults(): array
    {
        return [
            'stdClass' => [static fn (): mixed => new \stdClass(), 'stdClass'],
            'object in an array' => [static fn (): mixed => ['ok' => true, 'at' => new \DateTimeImmutable()], 'DateTimeImmutable'],
            'enum case' => [static fn (): mixed => IdempotencyTestStatus::Captured, IdempotencyTestStatus::class],
            'user class' => [static fn (): mixed => new IdempotencyTestResult('t', [], 1.0), IdempotencyTestResult::class],
        ];
    }

    /** @dataProvider objectResults */
    #[DataProvider('objectResults')]
    public function testObjectsAreRefusedAtStoreTimeUnlessAllowed(\Closure $produce, string $class): void
    {
        $store = new IdempotencyStore($this->options());
        $runs = 0;
        try {
            $store->once('obj', static function () use ($produce, &$runs): mixed {
                $runs++;
                return $produce();
            });
            self::fail('once() stored an object of a class nobody allowed');
        } catch (InvalidArgumentException $e) {
            self::assertStringContainsString($class, $e->getMessage());
            self::assertStringContainsString('allowed_classes', $e->getMessage());
        }
        self::assertSame(1, $runs);
        self::assertNull($store->status('obj'), 'nothing is stored: the next caller runs again');
    }

    /** @return array<string, array{mixed, list<string>}> */
    public static function allowedObjects(): array
    {
        $obj = new \stdClass();
        $obj->id = 'pay_1';
        $obj->amount = 1099;
        $obj->meta = ['a' => [1, 2.5, null, false], 'b' => new \stdClass()];
        return [
            'stdClass' => [$obj, ['stdClass']],
            'ArrayObject' => [new \ArrayObject(['x' => 1, 'y' => [2]]), ['ArrayObject']],
            'DateTimeImmutable' => [new \DateTimeImmutable('2024-06-11 12:34:56.789012', new \DateTimeZone('Europe/Madrid')), ['DateTimeImmutable']],
            'user class, name in another case and with a leading backslash' => [
                new IdempotencyTestResult('txn_42', ['captured' => true], 12.5),
                ['\\' . strtoupper(IdempotencyTestResult::class)],
            ],
            'list of objects' => [
                [new IdempotencyTestResult('a', [], 1.0), new IdempotencyTestResult('b', [1], 2.0)],
                [IdempotencyTestResult::class],
            ],
            'enum case' => [IdempotencyTestStatus::Captured, [IdempotencyTestStatus::class]],
        ];
    }

    /** @dataProvider allowedObjects */
    #[DataProvider('allowedObjects')]
    public function testObjectsOfAllowedClassesRoundTrip(mixed $value, array $allowed): void
    {
        $options = $this->options(['allowed_classes' => $allowed]);
        $first = (new IdempotencyStore($options))->once('ok', static fn (): mixed => $value);
        $again = (new IdempotencyStore($options))->once('ok', self::mustNotRun());
        foreach ([$first, $again] as $got) {
            self::assertEquals($value, $got);
            self::assertSame(get_debug_type($value), get_debug_type($got));
            self::assertSame(serialize($value), serialize($got));
        }
    }

    public function testAnAllowedObjectHoldingAnObjectOfAnotherClassIsRefusedAtStoreTime(): void
    {
        $store = new IdempotencyStore($this->options(['allowed_classes' => ['ArrayObject']]));
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('not allowed');
        try {
            $store->once('nested', static fn (): mixed => new \ArrayObject(['inner' => new \stdClass()]));
        } finally {
            self::assertNull($store->status('nested'));
        }
    }

    public function testAStoreThatAllowsLessRefusesWhatAnotherStoreAllowedToStore(): void
    {
        (new IdempotencyStore($this->options(['allowed_classes' => ['stdClass']])))
            ->once('k', static fn (): mixed => new \stdClass());
        $this->expectException(ConcurrencyException::class);
        (new IdempotencyStore($this->options()))->once('k', self::mustNotRun());
    }

    public function testDeeplyNestedAndSelfReferencingResultsAreRefused(): void
    {
        $store = new IdempotencyStore($this->options());
        $deep = 'leaf';
        for ($i = 0; $i < 200; $i++) {
            $deep = [$deep];
        }
        $loop = [1];
        $loop[] = &$loop;
        foreach (['deep' => $deep, 'loop' => $loop] as $name => $value) {
            try {
                $store->once($name, static fn (): mixed => $value);
                self::fail("once() stored a $name result");
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString('nested deeper', $e->getMessage());
            }
        }
    }
}

/** A class with side effects in its magic methods: creating it at all is the exploit. */
final class IdempotencyGadget
{
    /** @var list<string> */
    public static array $events = [];

    public function __wakeup(): void
    {
        self::$events[] = 'wakeup';
    }

    public function __destruct()
    {
        self::$events[] = 'destruct';
    }
}

/** A user class as a stored result: private, protected and typed state. */
final class IdempotencyTestResult
{
    protected array $details;

    public function __construct(private string $transactionId, array $details, public float $amount)
    {
        $this->details = $details;
    }
}

enum IdempotencyTestStatus: string
{
    case Captured = 'captured';
}
