--TEST--
phpinfo() and exceptions never show the password of the Redis URL
--EXTENSIONS--
monei_concurrency
--INI--
monei_concurrency.redis_url=redis://app:hunter2@127.0.0.1:1/0
monei_concurrency.connect_timeout_ms=200
--FILE--
<?php
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, 'hunter2'));
var_dump(str_contains($info, 'redis://app:***@127.0.0.1:1/0'));
try {
    (new Monei\Concurrency\OrderLockManager())->isLocked('1');
} catch (Monei\Concurrency\BackendUnavailableException $e) {
    var_dump(str_contains($e->getMessage(), 'hunter2'), str_contains($e->getMessage(), 'app:***@'));
}
ini_set('monei_concurrency.redis_url', 'rediss://:s3cr3t@h:2');
ob_start();
phpinfo(INFO_MODULES);
var_dump(str_contains(ob_get_clean(), 's3cr3t'));
?>
--EXPECT--
bool(false)
bool(true)
bool(false)
bool(true)
bool(false)
