<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\DeploymentConfig;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Model\Backend;
use Monei\Concurrency\Model\Config;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\ProcessingLock;
use PHPUnit\Framework\TestCase;

/**
 * app/etc/env.php's monei_concurrency array -> the extension's options:
 * only the keys that are set, numeric strings as integers, one section per
 * class, and every result accepted by the extension's constructors.
 */
final class ConfigTest extends TestCase
{
    private static function config(?array $section, array $environment = []): Config
    {
        return new Config(new DeploymentConfig($section === null ? ['db' => []] : [Config::ENV_KEY => $section], $environment));
    }

    public function testEnvironmentVariablesOverrideSingleSettings(): void
    {
        // Magento applies MAGENTO_DC_A__B overrides to the leaf a/b only.
        $c = self::config(['redis_url' => 'redis://10.0.0.5:6379/0', 'lock_wait_ms' => 100, 'webhook' => ['secret' => 'pk_file']], [
            'MAGENTO_DC_MONEI_CONCURRENCY__REDIS_URL' => 'redis://10.0.0.9:6380/1',
            'MAGENTO_DC_MONEI_CONCURRENCY__KEY_PREFIX' => 'shop7:',
            'MAGENTO_DC_MONEI_CONCURRENCY__WEBHOOK__SECRET' => 'pk_env',
            'MAGENTO_DC_MONEI_CONCURRENCY__FRAMEWORK_LOCK__MAX_HOLD_MS' => '3600000',
            'MAGENTO_DC_MONEI_CONCURRENCY__IDEMPOTENCY__RETENTION_S' => '600',
            'PATH' => '/usr/bin',
        ]);
        $base = ['redis_url' => 'redis://10.0.0.9:6380/1', 'key_prefix' => 'shop7:', 'lock_wait_ms' => 100];
        self::assertSame($base, $c->connectionOptions());
        self::assertSame(['max_hold_ms' => 3_600_000] + $base, $c->frameworkLockOptions());
        self::assertSame(['retention_s' => 600] + $base, $c->idempotencyOptions());
        self::assertSame(['pk_env'], $c->webhookSecrets());
        // Without any env.php section at all.
        $only = self::config(null, ['MAGENTO_DC_MONEI_CONCURRENCY__LOCK_WAIT_MS' => '2500']);
        self::assertSame(['lock_wait_ms' => 2500], $only->connectionOptions());
    }

    public function testNothingConfiguredMeansTheIniValues(): void
    {
        $c = self::config(null);
        self::assertSame([], $c->connectionOptions());
        self::assertSame(['max_hold_ms' => 86_400_000], $c->frameworkLockOptions());
        self::assertSame([], $c->idempotencyOptions());
        self::assertSame([], $c->stateMachineOptions());
        self::assertSame([], $c->webhookSecrets());
        self::assertSame(0, $c->webhookToleranceS());
        self::assertSame(3000, $c->webhookDuplicateWaitMs());
    }

    public function testOnlyTheKeysThatAreSetNumericStringsAsIntegers(): void
    {
        $c = self::config([
            'redis_url' => 'redis://10.0.0.5:6380/2',
            'key_prefix' => '123',           // a string setting stays a string
            'lock_wait_ms' => '2500',
            'io_timeout_ms' => 1500,
            'lock_ttl_ms' => '',             // empty: not set
            'max_hold_ms' => null,
            'unknown_thing' => 'ignored',
            'framework_lock' => ['max_hold_ms' => '3600000', 'lock_wait_ms' => 0, 'bogus' => 1],
            'idempotency' => ['retention_s' => '3600', 'in_progress_ttl_ms' => 5000, 'lock_wait_ms' => 1],
            'state_machine' => ['retention_s' => 60, 'transitions' => ['NEW' => ['DONE'], 'DONE' => []]],
            'webhook' => ['secret' => ['old', '', 'new'], 'tolerance_s' => '300', 'duplicate_wait_ms' => '100000000'],
        ]);
        $base = ['redis_url' => 'redis://10.0.0.5:6380/2', 'key_prefix' => '123', 'lock_wait_ms' => 2500, 'io_timeout_ms' => 1500];
        self::assertSame($base, $c->connectionOptions());
        self::assertSame(['lock_wait_ms' => 0, 'max_hold_ms' => 3_600_000] + $base, $c->frameworkLockOptions());
        self::assertEquals(['retention_s' => 3600, 'in_progress_ttl_ms' => 5000] + $base, $c->idempotencyOptions());
        self::assertEquals(['retention_s' => 60, 'transitions' => ['NEW' => ['DONE'], 'DONE' => []]] + $base, $c->stateMachineOptions());
        self::assertSame(['old', 'new'], $c->webhookSecrets());
        self::assertSame(300, $c->webhookToleranceS());
        self::assertSame(86_400_000, $c->webhookDuplicateWaitMs());
    }

    public function testTheExtensionAcceptsEveryOptionsArray(): void
    {
        $c = self::config([
            'redis_url' => (string) getenv('REDIS_URL'),
            'key_prefix' => 'cfgtest:',
            'lock_ttl_ms' => '20000',
            'lock_wait_ms' => '5000',
            'max_hold_ms' => '600000',
            'connect_timeout_ms' => '500',
            'io_timeout_ms' => '1000',
            'slow_hold_ms' => '2000',
            'framework_lock' => ['max_hold_ms' => 86_400_000],
            'idempotency' => ['retention_s' => 3600, 'in_progress_ttl_ms' => 30000],
            'state_machine' => ['retention_s' => 86400],
        ]);
        $b = new Backend($c);
        self::assertInstanceOf(OrderLockManager::class, $b->orderLocks());
        self::assertInstanceOf(OrderLockManager::class, $b->frameworkLocks());
        self::assertInstanceOf(ProcessingLock::class, $b->paymentLocks());
        self::assertInstanceOf(IdempotencyStore::class, $b->idempotencyStore());
        self::assertInstanceOf(PaymentStateMachine::class, $b->stateMachine());
        self::assertSame($b->orderLocks(), $b->orderLocks(), 'built once');
    }

    public function testAnInvalidValueIsReportedWhenFirstUsed(): void
    {
        $b = new Backend(self::config(['lock_wait_ms' => 'soon']));
        $this->expectException(InvalidArgumentException::class);
        $b->orderLocks();
    }
}
