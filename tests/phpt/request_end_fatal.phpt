--TEST--
A fatal error (E_USER_ERROR) inside a locked callback releases the locks at request end
--EXTENSIONS--
monei_concurrency
pcntl
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{Lease, OrderLockManager, ProcessingLock};

echo phpt_child(function () {
    $m = new OrderLockManager(phpt_options());
    $m->lock('100000124');
    (new ProcessingLock(phpt_options()))->executeWithLock('100000124', 'pay_1', function (Lease $lease) use ($m) {
        phpt_report_held(['payment' => $lease->isHeld(), 'order' => $m->isLocked('100000124')]);
        trigger_error('payment gateway exploded', E_USER_ERROR);
    });
    echo "not reached\n";
}), "\n";
echo phpt_read_held(), "\n";
echo phpt_free_now('100000124', 'pay_1'), "\n";
?>
--EXPECT--
exit 255
{"payment":true,"order":true}
payment lock free: yes, order lock free: yes
