<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * ini_restore() brings a monei_concurrency.* entry back to its configured
 * value, and objects made afterwards use that value (the entries need an
 * on_modify handler for PHP to restore them at run time).
 */
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
        ini_set('monei_concurrency.lock_ttl_ms', '1500');
        try {
            ini_restore('monei_concurrency.lock_ttl_ms');
            self::assertSame('30000', ini_get('monei_concurrency.lock_ttl_ms'));
            // A lock taken now lives for the restored 30 s, not 1.5 s.
            $m = new OrderLockManager(['key_prefix' => $this->prefix]);
            self::assertTrue($m->lock('100001198', 0));
            $pttl = $this->resp()->command('PTTL', $this->prefix . '{100001198}:order:lock');
            self::assertGreaterThan(25_000, $pttl);
            self::assertLessThanOrEqual(30_000, $pttl);
            self::assertTrue($m->unlock('100001198'));
        } finally {
            ini_set('monei_concurrency.lock_ttl_ms', '30000');
        }
    }
}
