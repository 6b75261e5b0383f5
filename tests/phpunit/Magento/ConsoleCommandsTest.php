<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Monei\Concurrency\Console\Command\LocksListCommand;
use Monei\Concurrency\Console\Command\LocksUnlockCommand;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;
use Monei\Concurrency\Tests\Support\RedisServer;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;

/**
 * bin/magento monei:locks:list and monei:locks:unlock, run through the
 * real Symfony Console (Debian's php-symfony-console) against real locks in Redis.
 */
final class ConsoleCommandsTest extends MagentoTestCase
{
    private const ORDER = '100000123';

    /** @return array{0: int, 1: string} exit code and output */
    private function runCommand(string $command, array $input, array $env = []): array
    {
        $backend = $this->app($env, withShop: false)->backend;
        $cmd = $command === 'list' ? new LocksListCommand($backend) : new LocksUnlockCommand($backend);
        $out = new BufferedOutput();
        $code = $cmd->run(new ArrayInput($input), $out);
        return [$code, $out->fetch()];
    }

    /** Takes locks in a child that is then killed: they stay until their 30 s lease runs out. */
    private function abandonLocks(): int
    {
        return Forker::run([function (): int {
            $app = $this->app(withShop: false);
            $app->backend->orderLocks()->lock(self::ORDER, 0);
            // Kept referenced until the child is killed (a destroyed Lease releases its lock).
            $GLOBALS['monei_test_abandoned_lease'] = $app->backend->paymentLocks()->acquire(self::ORDER, 'pay_dead', 0);
            $app->lockManager->lock('catalog_product_reindex', 0);
            return getmypid();
        }])[0];
    }

    public function testNames(): void
    {
        $backend = $this->app(withShop: false)->backend;
        self::assertSame('monei:locks:list', (new LocksListCommand($backend))->getName());
        self::assertSame('monei:locks:unlock', (new LocksUnlockCommand($backend))->getName());
    }

    public function testListNothing(): void
    {
        self::assertSame([0, "No locks held.\n"], $this->runCommand('list', []));
    }

    public function testListUsesEnvPhpAndRestoresTheIniValues(): void
    {
        $iniPrefix = ini_get('monei_concurrency.key_prefix');
        $iniUrl = ini_get('monei_concurrency.redis_url');
        $app = $this->app(withShop: false);
        // A few ms apart: the list is oldest first, by acquisition time in ms.
        self::assertTrue($app->backend->orderLocks()->lock(self::ORDER, 0));
        usleep(5000);
        $lease = (new ProcessingLock($this->options()))->acquire(self::ORDER, 'pay_1', 0);
        usleep(5000);
        self::assertTrue($app->lockManager->lock('cron_group_default', 0));

        [$code, $out] = $this->runCommand('list', []);
        self::assertSame(0, $code, $out);
        $lines = explode("\n", trim($out));
        self::assertCount(4, $lines, $out);
        $host = gethostname() . ':' . getmypid();
        self::assertMatchesRegularExpression('/^order +100000123 +' . preg_quote($host, '/') . ' +held +[\d.]+s +ttl +[\d.]+s +waiters 0 +token \d+ /', $lines[0]);
        self::assertMatchesRegularExpression('/^payment +100000123:pay_1 +' . preg_quote($host, '/') . ' /', $lines[1]);
        self::assertMatchesRegularExpression('/^lock +cron_group_default +' . preg_quote($host, '/') . ' /', $lines[2]);
        self::assertSame('3 lock(s).', $lines[3]);
        self::assertSame($iniPrefix, ini_get('monei_concurrency.key_prefix'), 'INI restored');
        self::assertSame($iniUrl, ini_get('monei_concurrency.redis_url'));

        [$code, $out] = $this->runCommand('list', ['pattern' => 'payment:*']);
        self::assertSame(0, $code);
        self::assertStringContainsString('100000123:pay_1', $out);
        self::assertStringContainsString('1 lock(s).', $out);

        [$code, $out] = $this->runCommand('list', ['--limit' => '2']);
        self::assertStringContainsString('2 lock(s) (limit reached).', $out);

        [$code, $out] = $this->runCommand('list', ['--json' => true]);
        self::assertSame(0, $code);
        $rows = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame([['order', '100000123'], ['payment', '100000123:pay_1'], ['lock', 'cron_group_default']],
            array_map(static fn ($r) => [$r['kind'], $r['name']], $rows));
        self::assertSame('order:magento:cron_group_default', $rows[2]['resource']);
        self::assertSame(getmypid(), $rows[0]['pid']);

        $lease->release();
        $app->backend->orderLocks()->unlock(self::ORDER);
        $app->lockManager->unlock('cron_group_default');
        self::assertSame([0, "No locks held.\n"], $this->runCommand('list', []));
    }

    public function testListRejectsABadLimit(): void
    {
        foreach (['0', '10001', 'ten'] as $limit) {
            self::assertSame([2, "--limit must be between 1 and 10000\n"], $this->runCommand('list', ['--limit' => $limit]));
        }
    }

    public function testUnlockLocksOfADeadProcess(): void
    {
        $deadPid = $this->abandonLocks();
        $app = $this->app(withShop: false);
        self::assertTrue($app->backend->orderLocks()->isLocked(self::ORDER));

        [$code, $out] = $this->runCommand('unlock', ['order' => self::ORDER]);
        self::assertSame(2, $code);
        self::assertStringContainsString("Held: order    100000123", $out);
        self::assertStringContainsString(":$deadPid ", $out);
        self::assertStringContainsString('Not freed: add --force', $out);
        self::assertTrue($app->backend->orderLocks()->isLocked(self::ORDER), 'nothing freed without --force');

        self::assertSame(0, $this->runCommand('unlock', ['order' => self::ORDER, '--force' => true])[0]);
        self::assertFalse($app->backend->orderLocks()->isLocked(self::ORDER));
        self::assertSame([1, "The order lock 100000123 is not held.\n"], $this->runCommand('unlock', ['order' => self::ORDER, '--force' => true]));

        [$code, $out] = $this->runCommand('unlock', ['order' => self::ORDER, '--payment' => 'pay_dead', '--force' => true]);
        self::assertSame(0, $code, $out);
        self::assertStringContainsString('Freed the payment lock 100000123 / pay_dead.', $out);
        self::assertFalse($app->backend->paymentLocks()->isLocked(self::ORDER, 'pay_dead'));

        self::assertTrue($app->lockManager->isLocked('catalog_product_reindex'));
        [$code, $out] = $this->runCommand('unlock', ['--lock' => 'catalog_product_reindex', '--force' => true]);
        self::assertSame(0, $code, $out);
        self::assertStringContainsString('Freed the Magento lock "catalog_product_reindex".', $out);
        self::assertFalse($app->lockManager->isLocked('catalog_product_reindex'));
        self::assertTrue($app->lockManager->lock('catalog_product_reindex', 0));
        self::assertTrue($app->lockManager->unlock('catalog_product_reindex'));
    }

    public function testUnlockUsage(): void
    {
        foreach ([[], ['order' => '1', '--lock' => 'x'], ['--payment' => 'p']] as $input) {
            self::assertSame([2, "Give either ORDER (optionally with --payment) or --lock=NAME.\n"], $this->runCommand('unlock', $input + ['--force' => true]));
        }
    }

    public function testRedisUnreachable(): void
    {
        $env = ['redis_url' => 'redis://127.0.0.1:' . RedisServer::freePort(), 'connect_timeout_ms' => 200];
        [$code, $out] = $this->runCommand('list', [], $env);
        self::assertSame(1, $code);
        self::assertStringContainsString('unavailable', $out);
        [$code, $out] = $this->runCommand('unlock', ['order' => self::ORDER, '--force' => true], $env);
        self::assertSame(2, $code);
        self::assertStringContainsString('unavailable', $out);
    }
}
