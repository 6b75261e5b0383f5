--TEST--
Bad input is refused with the documented exception classes, never a crash
--EXTENSIONS--
monei_concurrency
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{Lease, LockTimeoutException, OrderLockManager, ProcessingLock};

$pl = new ProcessingLock(phpt_options());
$m = new OrderLockManager(phpt_options());
$ran = false;
$cb = function () use (&$ran) { $ran = true; };
$cases = [
    'empty order id' => fn () => $pl->executeWithLock('', 'p', $cb),
    'empty payment id' => fn () => $pl->acquire('o', ''),
    '256-byte id' => fn () => $m->lock(str_repeat('x', 256)),
    'NUL in id' => fn () => $pl->tryAcquire("o\0", 'p'),
    'ttlMs 0' => fn () => $pl->executeWithLock('o', 'p', $cb, null, 0),
    'ttlMs -1' => fn () => $m->lock('o', null, -1),
    'ttlMs 86400001' => fn () => $pl->acquire('o', 'p', null, 86400001),
    'waitMs -1' => fn () => $m->waitForUnlock('o', -1),
    'unknown option' => fn () => new ProcessingLock(['lock_ttl' => 1]),
    'lock_ttl_ms as string' => fn () => new OrderLockManager(['lock_ttl_ms' => '5']),
    'redis_url as int' => fn () => new ProcessingLock(['redis_url' => 5]),
    'non-callable callback' => fn () => $pl->executeWithLock('o', 'p', 'no_such_function'),
    'array as id' => fn () => $m->isLocked([]),
    'new Lease()' => fn () => new Lease(),
];
foreach ($cases as $name => $case) {
    try {
        $case();
        echo "$name: accepted\n";
    } catch (Throwable $e) {
        echo "$name: ", get_class($e), "\n";
    }
}
var_dump($ran);
$prev = new LogicException('cause');
$e = new LockTimeoutException('m', 3, $prev);
var_dump($e->getMessage(), $e->getCode(), $e->getPrevious() === $prev, $e instanceof RuntimeException);
?>
--EXPECT--
empty order id: Monei\Concurrency\InvalidArgumentException
empty payment id: Monei\Concurrency\InvalidArgumentException
256-byte id: Monei\Concurrency\InvalidArgumentException
NUL in id: Monei\Concurrency\InvalidArgumentException
ttlMs 0: Monei\Concurrency\InvalidArgumentException
ttlMs -1: Monei\Concurrency\InvalidArgumentException
ttlMs 86400001: Monei\Concurrency\InvalidArgumentException
waitMs -1: Monei\Concurrency\InvalidArgumentException
unknown option: Monei\Concurrency\InvalidArgumentException
lock_ttl_ms as string: Monei\Concurrency\InvalidArgumentException
redis_url as int: Monei\Concurrency\InvalidArgumentException
non-callable callback: TypeError
array as id: TypeError
new Lease(): Error
bool(false)
string(1) "m"
int(3)
bool(true)
bool(true)
