--TEST--
An uncaught exception with acquired leases and lock()ed orders releases them at request end
--EXTENSIONS--
monei_concurrency
pcntl
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{OrderLockManager, ProcessingLock};

echo phpt_child(function () {
    $m = new OrderLockManager(phpt_options());
    $m->lock('100000126');
    $m->lock('100000126');   // re-entered: two levels
    $GLOBALS['lease'] = (new ProcessingLock(phpt_options()))->acquire('100000126', 'pay_1');
    phpt_report_held(['payment' => $GLOBALS['lease']->isHeld(), 'order' => $m->isLocked('100000126')]);
    throw new RuntimeException('nobody catches this');
}), "\n";
echo phpt_read_held(), "\n";
echo phpt_free_now('100000126', 'pay_1'), "\n";
?>
--EXPECT--
exit 255
{"payment":true,"order":true}
payment lock free: yes, order lock free: yes
