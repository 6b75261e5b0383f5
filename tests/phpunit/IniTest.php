<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Lease;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\PhpProcess;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * monei_concurrency.* INI values are the defaults of objects created after
 * they were set; the constructor's options override them.
 */
final class IniTest extends RedisTestCase
{
    private const SETTINGS = ['key_prefix', 'lock_ttl_ms', 'lock_wait_ms', 'max_hold_ms', 'connect_timeout_ms', 'io_timeout_ms', 'redis_url'];

    /** @var array<string, string> */
    private array $saved = [];

    protected function setUp(): void
    {
        parent::setUp();
        foreach (self::SETTINGS as $s) {
            $this->saved[$s] = (string) ini_get("monei_concurrency.$s");
        }
    }

    protected function tearDown(): void
    {
        // Not ini_restore(): it is a no-op for these entries (PENDING_IniRestoreTest.php.txt).
        foreach ($this->saved as $s => $value) {
            ini_set("monei_concurrency.$s", $value);
        }
        parent::tearDown();
    }

    private function restore(string $name): void
    {
        ini_set("monei_concurrency.$name", $this->saved[$name]);
    }

    public function testTheRunConfiguresTheSharedRedis(): void
    {
        self::assertSame(self::redisUrl(), ini_get('monei_concurrency.redis_url'));
        self::assertSame('monei:', ini_get('monei_concurrency.key_prefix'));
    }

    public function testKeyPrefixSetWithIniSetIsUsedByObjectsCreatedAfterwards(): void
    {
        $before = new OrderLockManager();
        self::assertNotFalse(ini_set('monei_concurrency.key_prefix', $this->prefix . 'ini:'));
        $after = new OrderLockManager();
        self::assertTrue($after->lock('100001100', 0));
        self::assertSame(1, $this->resp()->command('EXISTS', $this->orderKey('100001100', 'lock', $this->prefix . 'ini:')));
        self::assertTrue((new ProcessingLock())->executeWithLock('100001100', 'pay', fn () => $this->resp()->command('EXISTS', $this->paymentKey('100001100', 'pay', 'lock', $this->prefix . 'ini:')) === 1));
        // The object created before keeps the prefix it was created with ("monei:").
        self::assertFalse($before->isLocked('100001100'));
        self::assertTrue($before->lock('100001100', 0));
        self::assertSame(1, $this->resp()->command('EXISTS', 'monei:{100001100}:order:lock'));
        self::assertTrue($before->unlock('100001100'));
        self::assertTrue($after->unlock('100001100'));
    }

    public function testOptionsOverrideIni(): void
    {
        ini_set('monei_concurrency.key_prefix', $this->prefix . 'ini:');
        ini_set('monei_concurrency.lock_ttl_ms', '700');
        ini_set('monei_concurrency.lock_wait_ms', '0');

        $fromIni = new ProcessingLock();
        $lease = $fromIni->acquire('100001101', 'pay');
        self::assertLessThanOrEqual(700, $lease->remainingMs(), 'lock_ttl_ms from INI');
        self::assertSame(1, $this->resp()->command('EXISTS', $this->paymentKey('100001101', 'pay', 'lock', $this->prefix . 'ini:')));

        $fromOptions = new ProcessingLock(['key_prefix' => $this->prefix . 'opt:', 'lock_ttl_ms' => 9000]);
        $other = $fromOptions->acquire('100001101', 'pay');   // other prefix: another lock
        self::assertGreaterThan(700, $other->remainingMs(), 'lock_ttl_ms from the options');
        self::assertSame(1, $this->resp()->command('EXISTS', $this->paymentKey('100001101', 'pay', 'lock', $this->prefix . 'opt:')));
        self::assertTrue($other->release());

        // lock_wait_ms = 0 from INI: no wait; the option brings the wait back.
        $holder = PhpProcess::start(<<<'PHP'
            <?php
            $lease = (new Monei\Concurrency\ProcessingLock(['key_prefix' => $argv[1]]))->acquire('100001101', 'pay2', 0, 600);
            file_put_contents($argv[2], '1');
            usleep(400000);
            $lease->release();
            PHP, [$this->prefix . 'ini:', $this->tmp('held')]);
        self::waitForFile($this->tmp('held'), 10, $holder);
        $t0 = microtime(true);
        self::assertNull($fromIni->tryAcquire('100001101', 'pay2'));
        try {
            $fromIni->acquire('100001101', 'pay2');
            self::fail('lock_wait_ms=0 from INI should not wait');
        } catch (\Monei\Concurrency\LockTimeoutException) {
            self::assertLessThan(300, self::msSince($t0));
        }
        $waiting = new ProcessingLock(['lock_wait_ms' => 5000]);
        self::assertSame('waited', $waiting->executeWithLock('100001101', 'pay2', fn () => 'waited'));
        self::assertSame(0, $holder->wait()[0]);
        self::assertTrue($lease->release());
    }

    public function testRedisUrlFromIniAndOptions(): void
    {
        ini_set('monei_concurrency.redis_url', 'redis://127.0.0.1:1');
        ini_set('monei_concurrency.connect_timeout_ms', '300');
        try {
            (new ProcessingLock(['key_prefix' => $this->prefix]))->executeWithLock('1', '2', fn () => null);
            self::fail('the INI redis_url was not used');
        } catch (\Monei\Concurrency\BackendUnavailableException $e) {
            self::assertStringContainsString('127.0.0.1:1', $e->getMessage());
        }
        self::assertSame('ok', (new ProcessingLock($this->options()))->executeWithLock('1', '2', fn () => 'ok'));
    }

    public function testInvalidIniValuesAreRefusedByIniSet(): void
    {
        foreach ([
            'lock_ttl_ms' => 'abc',
            'lock_wait_ms' => '-5',
            'key_prefix' => 'a{b}',
            'redis_url' => 'ftp://x',
            'min_replicas_ack' => '99',
        ] as $name => $value) {
            $before = ini_get("monei_concurrency.$name");
            self::assertFalse(ini_set("monei_concurrency.$name", $value), "ini_set accepted $name=$value");
            self::assertSame($before, ini_get("monei_concurrency.$name"), 'the previous value stays');
            foreach ([ProcessingLock::class, OrderLockManager::class] as $class) {
                self::assertInstanceOf($class, new $class($this->options()));
            }
        }
        // A valid value is still taken, and ini_restore() brings the default back.
        self::assertNotFalse(ini_set('monei_concurrency.lock_ttl_ms', '1234'));
        self::assertSame('1234', ini_get('monei_concurrency.lock_ttl_ms'));
        ini_restore('monei_concurrency.lock_ttl_ms');
        self::assertSame('30000', ini_get('monei_concurrency.lock_ttl_ms'));
    }

    public function testReplySpinUsIsCheckedAndBothWaysWork(): void
    {
        foreach ([0, 1000] as $us) {
            $pl = new ProcessingLock($this->options(['reply_spin_us' => $us]));
            self::assertSame("spin $us", $pl->executeWithLock('100001104', 'pay', fn () => "spin $us"));
        }
        foreach ([-1, 1001, '50', 1.5] as $bad) {
            try {
                new ProcessingLock($this->options(['reply_spin_us' => $bad]));
                self::fail('reply_spin_us = ' . var_export($bad, true) . ' was accepted');
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString('reply_spin_us', $e->getMessage());
            }
        }
        $before = ini_get('monei_concurrency.reply_spin_us');
        self::assertSame('100', $before, 'the default');
        self::assertFalse(ini_set('monei_concurrency.reply_spin_us', '5000'));
        self::assertSame($before, ini_get('monei_concurrency.reply_spin_us'));
        self::assertNotFalse(ini_set('monei_concurrency.reply_spin_us', '0'));
        self::assertSame('spun 0', (new ProcessingLock(['key_prefix' => $this->prefix]))->executeWithLock('100001104', 'pay', fn () => 'spun 0'));
        ini_set('monei_concurrency.reply_spin_us', $before);
    }

    public function testIniDigitsAreAcceptedWhereOptionsRequireInts(): void
    {
        ini_set('monei_concurrency.lock_ttl_ms', ' 1500 ');
        $pl = new ProcessingLock(['key_prefix' => $this->prefix]);
        $remaining = $pl->executeWithLock('100001103', 'pay', fn (Lease $l) => $l->remainingMs());
        self::assertGreaterThan(1000, $remaining);
        self::assertLessThanOrEqual(1500, $remaining);
    }

    public function testPhpDashDSetsTheDefaults(): void
    {
        [$code, $out, $err] = PhpProcess::run(<<<'PHP'
            <?php
            $pl = new Monei\Concurrency\ProcessingLock();
            echo $pl->executeWithLock('100001104', 'pay', fn ($l) => $l->remainingMs() <= 800 ? 'ttl ok' : 'ttl wrong');
            PHP, [], ['-d', 'monei_concurrency.lock_ttl_ms=800', '-d', 'monei_concurrency.key_prefix=' . $this->prefix]);
        self::assertSame(0, $code, $err);
        self::assertSame('ttl ok', $out);
    }
}
