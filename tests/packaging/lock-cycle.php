<?php
// One lock cycle against the Redis of monei_concurrency.redis_url (or
// $_GET/argv redis_url): take, see it held in Redis, release, see it free.
// Prints "LOCK-CYCLE OK <version> <sapi> token=<n>" or "LOCK-CYCLE FAIL ...".
// Used by the PECL check (CLI) and the Debian package checks (CLI and php-fpm).
declare(strict_types=1);

use Monei\Concurrency\ProcessingLock;

$url = $_GET['redis_url'] ?? $argv[1] ?? null;
$options = ['key_prefix' => 'pkgcheck' . getmypid() . ':'];
if ($url !== null) {
    $options['redis_url'] = $url;
}
try {
    if (!extension_loaded('monei_concurrency')) {
        throw new RuntimeException('extension not loaded');
    }
    $lock = new ProcessingLock($options);
    $lease = $lock->tryAcquire('100000042', 'pay_1');
    if ($lease === null) {
        throw new RuntimeException('tryAcquire returned null on a free lock');
    }
    $held = (new ProcessingLock($options))->inspect('100000042', 'pay_1');
    if ($held === null || !$lock->isLocked('100000042', 'pay_1')) {
        throw new RuntimeException('the lock is not in Redis while held');
    }
    $lease->release();
    if ($lock->isLocked('100000042', 'pay_1')) {
        throw new RuntimeException('the lock is still held after release()');
    }
    printf("LOCK-CYCLE OK %s %s token=%s\n", phpversion('monei_concurrency'), PHP_SAPI, $held['token'] ?? '?');
} catch (Throwable $e) {
    printf("LOCK-CYCLE FAIL %s: %s\n", get_class($e), $e->getMessage());
}
