--TEST--
max_execution_time hit inside a locked callback releases the locks at request end
--EXTENSIONS--
monei_concurrency
pcntl
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{Lease, OrderLockManager, ProcessingLock};

$t0 = microtime(true);
echo phpt_child(function () {
    $m = new OrderLockManager(phpt_options());
    $m->executeWithOrderLock('100000125', function () use ($m) {
        (new ProcessingLock(phpt_options()))->executeWithLock('100000125', 'pay_1', function (Lease $lease) use ($m) {
            phpt_report_held(['payment' => $lease->isHeld(), 'order' => $m->isLocked('100000125')]);
            set_time_limit(1);
            for (;;) {
            }
        });
    });
}), "\n";
echo phpt_read_held(), "\n";
echo phpt_free_now('100000125', 'pay_1'), "\n";
// The child ran about 1 s, far less than the 20 s lease: the release was not an expiry.
var_dump(microtime(true) - $t0 < 10);
?>
--EXPECT--
exit 255
{"payment":true,"order":true}
payment lock free: yes, order lock free: yes
bool(true)
