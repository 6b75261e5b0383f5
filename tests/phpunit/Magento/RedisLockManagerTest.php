<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\DeploymentConfig;
use Magento\Framework\Lock\LockManagerInterface;
use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\Model\Backend;
use Monei\Concurrency\Model\Config;
use Monei\Concurrency\Model\Lock\RedisLockManager;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\ForkedChild;
use Monei\Concurrency\Tests\Support\RedisServer;

/**
 * Magento's LockManagerInterface on the Redis locks: lock()/unlock()/isLocked(),
 * the timeout in seconds (0, positive, negative), re-entrancy, any name length.
 */
final class RedisLockManagerTest extends MagentoTestCase
{
    private function manager(array $env = []): RedisLockManager
    {
        return $this->app($env, withShop: false)->lockManager;
    }

    /** What another process sees: [isLocked, lock($name, 0) succeeded]. */
    private function otherProcess(string $name): array
    {
        return Forker::run([function () use ($name): array {
            $m = $this->manager();
            $locked = $m->isLocked($name);
            $got = $m->lock($name, 0);
            if ($got) {
                $m->unlock($name);
            }
            return [$locked, $got];
        }])[0];
    }

    /** A child that holds $name until the file "release" appears, then unlocks; returns microtime() of the unlock. */
    private function holdInChild(string $name, float $autoReleaseAfterS = 30.0): ForkedChild
    {
        $held = $this->tmp('held');
        $release = $this->tmp('release');
        $child = Forker::spawn(function () use ($name, $held, $release, $autoReleaseAfterS): float {
            $m = $this->manager();
            if (!$m->lock($name, 0)) {
                throw new \RuntimeException('child could not lock');
            }
            self::signal($held);
            $until = microtime(true) + $autoReleaseAfterS;
            while (!is_file($release) && microtime(true) < $until) {
                usleep(1000);
            }
            $m->unlock($name);
            return microtime(true);
        });
        self::waitForFile($held);
        return $child;
    }

    public function testImplementsMagentosInterface(): void
    {
        self::assertInstanceOf(LockManagerInterface::class, $this->manager());
    }

    public function testLockUnlockIsLocked(): void
    {
        $m = $this->manager();
        self::assertFalse($m->isLocked('indexer_reindex'));
        self::assertTrue($m->lock('indexer_reindex', 0));
        self::assertTrue($m->isLocked('indexer_reindex'));
        self::assertSame([true, false], $this->otherProcess('indexer_reindex'), 'another process sees it locked and cannot take it');
        self::assertTrue($m->unlock('indexer_reindex'));
        self::assertFalse($m->isLocked('indexer_reindex'));
        self::assertFalse($m->unlock('indexer_reindex'), 'unlock() of a lock not held is false');
        self::assertSame([false, true], $this->otherProcess('indexer_reindex'));
    }

    public function testUnlockByAnotherProcessIsRefused(): void
    {
        $m = $this->manager();
        self::assertTrue($m->lock('cron_group_default', 0));
        $unlocked = Forker::run([fn () => $this->manager()->unlock('cron_group_default')])[0];
        self::assertFalse($unlocked);
        self::assertTrue($m->isLocked('cron_group_default'));
        self::assertTrue($m->unlock('cron_group_default'));
    }

    public function testTimeoutZeroDoesNotWait(): void
    {
        $child = $this->holdInChild('busy');
        $m = $this->manager();
        $t0 = microtime(true);
        self::assertFalse($m->lock('busy', 0));
        self::assertLessThan(300, self::msSince($t0));
        self::signal($this->tmp('release'));
        $child->wait();
    }

    public function testPositiveTimeoutIsSeconds(): void
    {
        $child = $this->holdInChild('busy');
        $m = $this->manager();
        $t0 = microtime(true);
        self::assertFalse($m->lock('busy', 1));
        $ms = self::msSince($t0);
        self::assertGreaterThanOrEqual(950, $ms);
        self::assertLessThan(2500, $ms);
        self::signal($this->tmp('release'));
        $child->wait();
    }

    public function testNegativeTimeoutWaitsUntilReleasedAndIsWokenByTheRelease(): void
    {
        $child = $this->holdInChild('busy', autoReleaseAfterS: 1.2);
        $m = $this->manager();
        $t0 = microtime(true);
        self::assertTrue($m->lock('busy', -1));
        $acquired = microtime(true);
        $released = $child->wait();
        self::assertGreaterThanOrEqual(1000, ($acquired - $t0) * 1000);
        self::assertLessThan(250, ($acquired - $released) * 1000, 'woken by the release, not by a poll');
        self::assertTrue($m->unlock('busy'));
        $this->recordFigures(['wake_after_release_ms' => round(($acquired - $released) * 1000, 2)]);
    }

    public function testTimeoutMapping(): void
    {
        self::assertSame(86_400_000, Backend::waitMs(-1));
        self::assertSame(86_400_000, Backend::waitMs(-100));
        self::assertSame(86_400_000, Backend::waitMs(PHP_INT_MIN));
        self::assertSame(0, Backend::waitMs(0));
        self::assertSame(5000, Backend::waitMs(5));
        self::assertSame(86_399_000, Backend::waitMs(86_399));
        self::assertSame(86_400_000, Backend::waitMs(86_400));
        self::assertSame(86_400_000, Backend::waitMs(PHP_INT_MAX));
        // The longest wait is accepted by the extension (no InvalidArgumentException).
        $m = $this->manager();
        self::assertTrue($m->lock('forever', -1));
        self::assertTrue($m->lock('forever', PHP_INT_MAX));
        self::assertTrue($m->unlock('forever'));
        self::assertTrue($m->unlock('forever'));
    }

    public function testReentrant(): void
    {
        $m = $this->manager();
        self::assertTrue($m->lock('cron_job_sales_clean_quotes', 0));
        self::assertTrue($m->lock('cron_job_sales_clean_quotes', 0), 'the holder does not wait for itself');
        self::assertTrue($m->lock('cron_job_sales_clean_quotes', 5));
        self::assertTrue($m->unlock('cron_job_sales_clean_quotes'));
        self::assertTrue($m->unlock('cron_job_sales_clean_quotes'));
        self::assertSame([true, false], $this->otherProcess('cron_job_sales_clean_quotes'), 'one level is still held');
        self::assertTrue($m->unlock('cron_job_sales_clean_quotes'));
        self::assertSame([false, true], $this->otherProcess('cron_job_sales_clean_quotes'));
    }

    public function testSeveralLocksAtOnceInOneProcess(): void
    {
        // Magento's database backend allows one lock per connection; here any number.
        $m = $this->manager();
        foreach (['a', 'b', 'c'] as $name) {
            self::assertTrue($m->lock($name, 0));
        }
        foreach (['a', 'b', 'c'] as $name) {
            self::assertTrue($m->isLocked($name));
            self::assertTrue($m->unlock($name));
        }
    }

    public function testNamesOfAnyLength(): void
    {
        $m = $this->manager();
        $long = str_repeat('x', 300);
        $longToo = str_repeat('x', 255) . str_repeat('y', 45); // same first 255 bytes
        $atLimit = str_repeat('z', 255 - strlen(RedisLockManager::ID_PREFIX));
        $overLimit = $atLimit . 'z';
        foreach ([$long, $longToo, $atLimit, $overLimit, str_repeat('é', 1000), "nul\0byte", ''] as $name) {
            self::assertLessThanOrEqual(255, strlen(RedisLockManager::lockId($name)));
            self::assertTrue($m->lock($name, 0), 'name of ' . strlen($name) . ' bytes');
            self::assertTrue($m->isLocked($name));
        }
        self::assertSame(RedisLockManager::ID_PREFIX . $atLimit, RedisLockManager::lockId($atLimit), 'names that fit are used as they are');
        self::assertStringStartsWith(RedisLockManager::HASHED_ID_PREFIX, RedisLockManager::lockId($overLimit));
        self::assertNotSame(RedisLockManager::lockId($long), RedisLockManager::lockId($longToo));
        self::assertSame([true, false], $this->otherProcess($long));
        self::assertSame([true, false], $this->otherProcess($longToo));
        self::assertFalse($m->isLocked(str_repeat('x', 301)));
        foreach ([$long, $longToo, $atLimit, $overLimit, str_repeat('é', 1000), "nul\0byte", ''] as $name) {
            self::assertTrue($m->unlock($name));
        }
        self::assertSame([false, true], $this->otherProcess($long));
    }

    public function testNamedLocksNeverMeetOrderLocks(): void
    {
        $m = $this->manager();
        self::assertTrue($m->lock('100000123', 0));
        $orders = new OrderLockManager($this->options());
        self::assertFalse($orders->isLocked('100000123'));
        self::assertTrue($orders->lock('100000123', 0));
        self::assertTrue($orders->unlock('100000123'));
        self::assertTrue($m->unlock('100000123'));
    }

    public function testSettingsComeFromEnvPhp(): void
    {
        $m = $this->manager(['key_prefix' => $this->prefix . 'env:', 'lock_wait_ms' => '2500']);
        self::assertTrue($m->lock('from_env', 0));
        $keys = $this->resp()->keys($this->prefix . 'env:*');
        self::assertContains($this->prefix . 'env:{magento%3Afrom_env}:order:lock', $keys);
        $holder = (new OrderLockManager($this->options(['key_prefix' => $this->prefix . 'env:'])))->inspect('magento:from_env');
        self::assertSame(getmypid(), $holder['pid']);
        self::assertTrue($m->unlock('from_env'));
    }

    public function testWithoutEnvPhpTheIniValuesApply(): void
    {
        $before = ini_get('monei_concurrency.key_prefix');
        ini_set('monei_concurrency.key_prefix', $this->prefix . 'ini:');
        try {
            // No monei_concurrency array at all, and one with only unrelated keys.
            foreach ([new DeploymentConfig([]), new DeploymentConfig([Config::ENV_KEY => ['webhook' => ['secret' => 's']]])] as $dc) {
                $m = new RedisLockManager(new Backend(new Config($dc)));
                self::assertTrue($m->lock('from_ini', 0));
                self::assertContains($this->prefix . 'ini:{magento%3Afrom_ini}:order:lock', $this->resp()->keys($this->prefix . 'ini:*'));
                self::assertTrue($m->unlock('from_ini'));
            }
        } finally {
            ini_set('monei_concurrency.key_prefix', (string) $before);
        }
    }

    public function testFailsClosedWhenRedisIsUnreachable(): void
    {
        $m = $this->manager(['redis_url' => 'redis://127.0.0.1:' . RedisServer::freePort(), 'connect_timeout_ms' => 200]);
        $this->expectException(BackendUnavailableException::class);
        $m->lock('anything', 0);
    }
}
