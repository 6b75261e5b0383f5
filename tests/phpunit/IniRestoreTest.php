<?php

declare(strict_types=1);

// Bug: ini_restore('monei_concurrency.<name>') silently does nothing: after
// ini_set('monei_concurrency.key_prefix', 'x:'); ini_restore(...), ini_get()
// still returns 'x:' and new objects still use it (ini_get_all() shows
// local_value 'x:' next to global_value 'monei:').
//
// Diagnosis: src/php/ini.rs registers the entries with IniEntryDef::new(),
// which leaves on_modify = NULL. PHP's zend_restore_ini_entry_cb()
// (Zend/zend_ini.c) starts from result = FAILURE and only calls on_modify
// when there is one; at ZEND_INI_STAGE_RUNTIME a FAILURE means "keep the
// modified value", so ini_restore() can never restore an entry without an
// on_modify handler. (The end-of-request restore uses another stage and is
// not affected.) Giving the entries an on_modify handler that accepts the
// value (e.g. PHP's OnUpdateString-like "return SUCCESS") fixes it.

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\Tests\Support\RedisTestCase;

final class IniRestoreTest extends RedisTestCase
{
    public function testIniRestoreBringsBackTheConfiguredValue(): void
    {
        $original = ini_get('monei_concurrency.key_prefix');
        self::assertSame('monei:', $original);
        ini_set('monei_concurrency.key_prefix', $this->prefix);
        try {
            self::assertSame($this->prefix, ini_get('monei_concurrency.key_prefix'));
            ini_restore('monei_concurrency.key_prefix');
            self::assertSame('monei:', ini_get('monei_concurrency.key_prefix'));

            $m = new OrderLockManager();
            self::assertTrue($m->lock('100001199', 0));
            self::assertSame(1, $this->resp()->command('EXISTS', 'monei:{100001199}:order:lock'));
            self::assertTrue($m->unlock('100001199'));
        } finally {
            ini_set('monei_concurrency.key_prefix', (string) $original);
        }
    }

    public function testIniRestoreOfANumericSetting(): void
    {
        ini_set('monei_concurrency.lock_ttl_ms', 'not a number');
        try {
            ini_restore('monei_concurrency.lock_ttl_ms');
            self::assertSame('30000', ini_get('monei_concurrency.lock_ttl_ms'));
            self::assertInstanceOf(OrderLockManager::class, new OrderLockManager());
        } finally {
            ini_set('monei_concurrency.lock_ttl_ms', '30000');
        }
    }
}
