--TEST--
Control: a child killed with SIGKILL cannot release; its lock stays until the lease runs out
--EXTENSIONS--
monei_concurrency
pcntl
posix
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{OrderLockManager, ProcessingLock};

echo phpt_child(function () {
    $m = new OrderLockManager(phpt_options(['lock_ttl_ms' => 800]));
    $m->lock('100000128');
    $lease = (new ProcessingLock(phpt_options(['lock_ttl_ms' => 800])))->acquire('100000128', 'pay_1');
    phpt_report_held(['payment' => $lease->isHeld(), 'order' => $m->isLocked('100000128')]);
    posix_kill(posix_getpid(), SIGKILL);
}), "\n";
echo phpt_read_held(), "\n";
echo phpt_free_now('100000128', 'pay_1'), "\n";
$t0 = microtime(true);
$lease = (new ProcessingLock(phpt_options()))->acquire('100000128', 'pay_1', 5000);
var_dump($lease->release(), microtime(true) - $t0 < 2.0);
?>
--EXPECT--
signal 9
{"payment":true,"order":true}
payment lock free: no, order lock free: no
bool(true)
bool(true)
