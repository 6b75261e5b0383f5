--TEST--
INI settings are the defaults of new objects; options override them
--EXTENSIONS--
monei_concurrency
--INI--
monei_concurrency.lock_ttl_ms=900
monei_concurrency.lock_wait_ms=0
--FILE--
<?php
require __DIR__ . '/inc/common.inc';
use Monei\Concurrency\ProcessingLock;

var_dump(ini_get('monei_concurrency.lock_ttl_ms'));
ini_set('monei_concurrency.key_prefix', phpt_prefix() . 'ini:');
$fromIni = new ProcessingLock();
$lease = $fromIni->acquire('100000300', 'pay');
var_dump($lease->remainingMs() <= 900);
$fromOptions = new ProcessingLock(['lock_ttl_ms' => 5000]);
var_dump($fromOptions->executeWithLock('100000300', 'pay', fn ($l) => $l->remainingMs() > 900), 'same prefix: re-entered, keeps the outer lease');
$other = new ProcessingLock(['key_prefix' => phpt_prefix() . 'opt:', 'lock_ttl_ms' => 5000]);
var_dump($other->executeWithLock('100000300', 'pay', fn ($l) => $l->remainingMs() > 900));
var_dump($lease->release());
?>
--EXPECT--
string(3) "900"
bool(true)
bool(false)
string(46) "same prefix: re-entered, keeps the outer lease"
bool(true)
bool(true)
