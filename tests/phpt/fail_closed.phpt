--TEST--
An unreachable Redis fails closed: BackendUnavailableException, the callback never runs
--EXTENSIONS--
monei_concurrency
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\{BackendUnavailableException, ProcessingLock};

$s = stream_socket_server('tcp://127.0.0.1:0');
$name = stream_socket_get_name($s, false);
fclose($s);   // nothing listens there now
$pl = new ProcessingLock(phpt_options(['redis_url' => "redis://:Secret123@$name", 'connect_timeout_ms' => 500]));
$ran = false;
$t0 = microtime(true);
try {
    $pl->executeWithLock('1', '2', function () use (&$ran) { $ran = true; });
} catch (BackendUnavailableException $e) {
    echo get_class($e), "\n";
    var_dump(str_contains($e->getMessage(), 'Secret123'), str_contains($e->getMessage(), ':***@'));
}
var_dump($ran, microtime(true) - $t0 < 1.5);
?>
--EXPECT--
Monei\Concurrency\BackendUnavailableException
bool(false)
bool(true)
bool(false)
bool(true)
