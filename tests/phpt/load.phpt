--TEST--
The extension loads and defines its classes
--EXTENSIONS--
monei_concurrency
--FILE--
<?php
var_dump(class_exists(Monei\Concurrency\ProcessingLock::class));
var_dump(is_subclass_of(Monei\Concurrency\LockTimeoutException::class, RuntimeException::class));
var_dump(ini_get('monei_concurrency.key_prefix'));
?>
--EXPECT--
bool(true)
bool(true)
string(6) "monei:"
