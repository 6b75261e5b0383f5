<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Lease;
use Monei\Concurrency\LockTimeoutException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

final class PaymentDeclined extends \RuntimeException
{
    public array $details = [];
}

/**
 * What the callback throws reaches the caller as the very same object, and
 * the lock is released before it does; what it returns comes back as is.
 */
final class CallbackExceptionTest extends RedisTestCase
{
    private const ORDER = '100000600';
    private const PAY = 'pay_ex';

    private function otherProcessCanTakeBoth(): bool
    {
        $options = $this->options();
        return Forker::run([static function () use ($options): bool {
            $m = new OrderLockManager($options);
            $p = (new ProcessingLock($options))->tryAcquire(self::ORDER, self::PAY);
            return $p !== null && $p->release() && $m->lock(self::ORDER, 0) && $m->unlock(self::ORDER);
        }])[0];
    }

    /** @return iterable<string, array{\Throwable}> */
    public static function throwables(): iterable
    {
        $previous = new \LogicException('root cause', 7);
        $declined = new PaymentDeclined('declined by issuer', 402, $previous);
        $declined->details = ['code' => 'card_declined'];
        yield 'custom exception with code and previous' => [$declined];
        yield 'Error' => [new \TypeError('bad type', 5)];
        yield 'DivisionByZeroError' => [new \DivisionByZeroError('Division by zero')];
        // An exception of the extension's own class, thrown by user code, is not mistaken for a lock failure.
        yield "the extension's LockTimeoutException" => [new LockTimeoutException('from user code', 3, $previous)];
    }

    /** @dataProvider throwables */
    #[DataProvider('throwables')]
    public function testExecuteWithLockRethrowsTheSameObject(\Throwable $thrown): void
    {
        $pl = new ProcessingLock($this->options());
        $line = $thrown->getLine();
        try {
            $pl->executeWithLock(self::ORDER, self::PAY, function () use ($thrown): never {
                throw $thrown;
            });
            self::fail('nothing was thrown');
        } catch (\Throwable $caught) {
        }
        self::assertSame($thrown, $caught);
        self::assertSame(get_class($thrown), get_class($caught));
        self::assertSame($thrown->getMessage(), $caught->getMessage());
        self::assertSame($thrown->getCode(), $caught->getCode());
        self::assertSame($thrown->getPrevious(), $caught->getPrevious());
        self::assertSame($line, $caught->getLine());
        if ($caught instanceof PaymentDeclined) {
            self::assertSame(['code' => 'card_declined'], $caught->details);
            self::assertSame('root cause', $caught->getPrevious()->getMessage());
        }
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY), 'released before the exception reached the caller');
        self::assertTrue($this->otherProcessCanTakeBoth());
    }

    /** @dataProvider throwables */
    #[DataProvider('throwables')]
    public function testExecuteWithOrderLockRethrowsTheSameObject(\Throwable $thrown): void
    {
        $m = new OrderLockManager($this->options());
        try {
            $m->executeWithOrderLock(self::ORDER, function () use ($thrown): never {
                throw $thrown;
            });
            self::fail('nothing was thrown');
        } catch (\Throwable $caught) {
        }
        self::assertSame($thrown, $caught);
        self::assertFalse($m->isLocked(self::ORDER));
    }

    public function testAnExceptionFromANestedLevelLeavesEveryLevelReleased(): void
    {
        $pl = new ProcessingLock($this->options());
        $m = new OrderLockManager($this->options());
        $thrown = new PaymentDeclined('deep', 9);
        $levels = 0;
        try {
            $m->executeWithOrderLock(self::ORDER, function () use ($pl, $thrown, &$levels): void {
                $levels++;
                $pl->executeWithLock(self::ORDER, self::PAY, function () use ($pl, $thrown, &$levels): void {
                    $levels++;
                    $pl->executeWithLock(self::ORDER, self::PAY, function () use ($thrown, &$levels): void {
                        $levels++;
                        throw $thrown;
                    }, 0);
                }, 0);
            }, 0);
            self::fail('nothing was thrown');
        } catch (PaymentDeclined $caught) {
            self::assertSame($thrown, $caught);
        }
        self::assertSame(3, $levels);
        self::assertFalse($m->isLocked(self::ORDER));
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
        self::assertTrue($this->otherProcessCanTakeBoth());
    }

    public function testAnExceptionCaughtInsideTheCallbackDoesNotEscape(): void
    {
        $pl = new ProcessingLock($this->options());
        $r = $pl->executeWithLock(self::ORDER, self::PAY, function (): string {
            try {
                throw new \RuntimeException('handled');
            } catch (\RuntimeException) {
                return 'recovered';
            }
        });
        self::assertSame('recovered', $r);
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
    }

    public function testReturnValuesComeBackUnchanged(): void
    {
        $pl = new ProcessingLock($this->options());
        $obj = new \stdClass();
        $obj->amount = 1999;
        self::assertSame($obj, $pl->executeWithLock(self::ORDER, self::PAY, fn () => $obj));
        self::assertSame(['a' => [1, 2.5, null, true]], $pl->executeWithLock(self::ORDER, self::PAY, fn () => ['a' => [1, 2.5, null, true]]));
        self::assertNull($pl->executeWithLock(self::ORDER, self::PAY, function (): void {
        }));
        self::assertFalse($pl->executeWithLock(self::ORDER, self::PAY, fn () => false));
        self::assertSame('x', (new OrderLockManager($this->options()))->executeWithOrderLock(self::ORDER, fn () => 'x'));
        $lease = $pl->executeWithLock(self::ORDER, self::PAY, fn (Lease $l) => $l);
        self::assertInstanceOf(Lease::class, $lease);
        self::assertFalse($lease->isHeld(), 'a lease kept after the callback is released');
        self::assertFalse($lease->release());
        // Any callable works: strings, arrays, invokable objects, first-class callables.
        self::assertSame('ABC', $pl->executeWithLock(self::ORDER, self::PAY, fn () => strtoupper('abc')));
        self::assertSame('payment:' . self::ORDER . ':' . self::PAY, $pl->executeWithLock(self::ORDER, self::PAY, [self::class, 'resourceOf']));
        self::assertSame(5, $pl->executeWithLock(self::ORDER, self::PAY, new class () {
            public function __invoke(Lease $l): int
            {
                return 5;
            }
        }));
        self::assertSame('payment:' . self::ORDER . ':' . self::PAY, $pl->executeWithLock(self::ORDER, self::PAY, self::resourceOf(...)));
        self::assertFalse($pl->isLocked(self::ORDER, self::PAY));
    }

    public static function resourceOf(Lease $l): string
    {
        return $l->resource();
    }

    public function testTheCallbackMayReleaseItsLeaseEarly(): void
    {
        $pl = new ProcessingLock($this->options());
        $r = $pl->executeWithLock(self::ORDER, self::PAY, function (Lease $l) use ($pl): array {
            $released = $l->release();
            return [$released, $pl->isLocked(self::ORDER, self::PAY), $this->otherProcessCanTakeBoth()];
        });
        self::assertSame([true, false, true], $r, 'released early, no LockLostException');
    }
}
