--TEST--
executeWithLock, re-entrancy, leases and waitMs=0 between two processes
--EXTENSIONS--
monei_concurrency
pcntl
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{Lease, LockTimeoutException, OrderLockManager, ProcessingLock};

$pl = new ProcessingLock(phpt_options());
$m = new OrderLockManager(phpt_options());

// Value and nesting.
var_dump($pl->executeWithLock('100000200', 'pay', function (Lease $outer) use ($pl) {
    $inner = $pl->executeWithLock('100000200', 'pay', fn (Lease $l) => $l->token() === $outer->token(), 0);
    return [$outer->resource(), $inner];
}));
var_dump($pl->isLocked('100000200', 'pay'));

// Held here: another process can neither take it nor release it.
$lease = $pl->acquire('100000200', 'pay', 0);
var_dump($m->lock('100000200', 0));
echo phpt_child(function () use ($lease) {
    $pl = new ProcessingLock(phpt_options());
    $m = new OrderLockManager(phpt_options());
    $r = ['release' => $lease->release(), 'try' => $pl->tryAcquire('100000200', 'pay'), 'unlock' => $m->unlock('100000200'), 'lock' => $m->lock('100000200', 0)];
    try {
        $pl->executeWithLock('100000200', 'pay', fn () => 'ran', 0);
    } catch (LockTimeoutException $e) {
        $r['execute'] = get_class($e);
    }
    phpt_report_held($r);
    exit(0);
}), "\n";
echo phpt_read_held(), "\n";
var_dump($lease->isHeld(), $lease->release(), $lease->release(), $m->unlock('100000200'), $m->unlock('100000200'));
var_dump($pl->isLocked('100000200', 'pay'), $m->isLocked('100000200'));
?>
--EXPECT--
array(2) {
  [0]=>
  string(21) "payment:100000200:pay"
  [1]=>
  bool(true)
}
bool(false)
bool(true)
exit 0
{"release":false,"try":null,"unlock":false,"lock":false,"execute":"Monei\\Concurrency\\LockTimeoutException"}
bool(true)
bool(true)
bool(false)
bool(true)
bool(false)
bool(false)
bool(false)
