--TEST--
lock() without unlock() and an unreleased lease are released when the script ends normally
--EXTENSIONS--
monei_concurrency
pcntl
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{OrderLockManager, ProcessingLock};

echo phpt_child(function () {
    $m = new OrderLockManager(phpt_options());
    var_dump($m->lock('100000127'));
    $GLOBALS['kept'] = (new ProcessingLock(phpt_options()))->acquire('100000127', 'pay_1');
    phpt_report_held(['payment' => $GLOBALS['kept']->isHeld(), 'order' => $m->isLocked('100000127')]);
    // ... and the script just ends.
}), "\n";
echo phpt_read_held(), "\n";
echo phpt_free_now('100000127', 'pay_1'), "\n";
?>
--EXPECT--
bool(true)
exit 0
{"payment":true,"order":true}
payment lock free: yes, order lock free: yes
