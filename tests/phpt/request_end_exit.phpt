--TEST--
exit() inside nested locked callbacks releases every lock when the child ends
--EXTENSIONS--
monei_concurrency
pcntl
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{Lease, OrderLockManager, ProcessingLock};

echo phpt_child(function () {
    $m = new OrderLockManager(phpt_options());
    $pl = new ProcessingLock(phpt_options());
    $m->executeWithOrderLock('100000123', function () use ($pl, $m) {
        $pl->executeWithLock('100000123', 'pay_1', function (Lease $lease) use ($m) {
            phpt_report_held(['payment' => $lease->isHeld(), 'order' => $m->isLocked('100000123')]);
            exit(7);
        });
    });
}), "\n";
echo phpt_read_held(), "\n";
echo phpt_free_now('100000123', 'pay_1'), "\n";
?>
--EXPECT--
exit 7
{"payment":true,"order":true}
payment lock free: yes, order lock free: yes
