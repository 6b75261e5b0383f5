<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\DeploymentConfig;
use Magento\Framework\Config\File\ConfigFilePool;
use Magento\Framework\Setup\Option\TextConfigOption;
use Monei\Concurrency\Model\Config;
use Monei\Concurrency\Setup\ConfigOptionsList;
use PHPUnit\Framework\TestCase;
use Symfony\Component\Console\Input\ArgvInput;
use Symfony\Component\Console\Input\InputDefinition;

/**
 * bin/magento setup:config:set --monei-concurrency-...: the options parsed
 * by the real Symfony Console, then what Magento's ConfigModel does with a
 * module's ConfigOptionsList: validate() for everything first, and only
 * without errors createConfig() and the write into app/etc/env.php.
 */
final class ConfigOptionsListTest extends TestCase
{
    /** @return array{0: list<string>, 1: array} [errors, env.php after the command] */
    private static function configSet(array $argv, array $env = []): array
    {
        $list = new ConfigOptionsList();
        $input = new ArgvInput(['bin/magento', ...$argv], new InputDefinition($list->getOptions()));
        $options = $input->getOptions();
        $deploymentConfig = new DeploymentConfig($env, []);
        $errors = $list->validate($options, $deploymentConfig);
        if ($errors !== []) {
            return [$errors, $env];
        }
        foreach ($list->createConfig($options, $deploymentConfig) as $data) {
            self::assertSame(ConfigFilePool::APP_ENV, $data->getFileKey());
            $env = array_replace_recursive($env, $data->getData());
        }
        return [[], $env];
    }

    public function testTheOptions(): void
    {
        $options = (new ConfigOptionsList())->getOptions();
        $byName = [];
        foreach ($options as $o) {
            self::assertInstanceOf(TextConfigOption::class, $o);
            self::assertTrue($o->isValueRequired());
            $byName[$o->getName()] = $o->getConfigPath();
        }
        self::assertSame('monei_concurrency/redis_url', $byName['monei-concurrency-redis-url']);
        self::assertSame('monei_concurrency/webhook/secret', $byName['monei-concurrency-webhook-secret']);
        self::assertSame('monei_concurrency/framework_lock/max_hold_ms', $byName['monei-concurrency-framework-lock-max-hold-ms']);
        foreach (Config::CONNECTION_KEYS as $key) {
            self::assertContains(Config::ENV_KEY . '/' . $key, $byName, "an option for $key");
        }
    }

    public function testValidValuesAreWrittenAsLeavesAndReadBack(): void
    {
        [$errors, $env] = self::configSet([
            '--monei-concurrency-redis-url=redis://:pw@redis.internal:6379/2',
            '--monei-concurrency-key-prefix=shop1:',
            '--monei-concurrency-lock-wait-ms=10000',
            '--monei-concurrency-framework-lock-max-hold-ms=3600000',
            '--monei-concurrency-webhook-secret=pk_live_x',
            '--monei-concurrency-webhook-tolerance-s=300',
        ], ['db' => ['host' => 'x'], 'monei_concurrency' => ['lock_ttl_ms' => 20000]]);
        self::assertSame([], $errors);
        self::assertSame(['host' => 'x'], $env['db'], 'the rest of env.php is kept');
        self::assertSame([
            'lock_ttl_ms' => 20000,
            'redis_url' => 'redis://:pw@redis.internal:6379/2',
            'key_prefix' => 'shop1:',
            'lock_wait_ms' => 10000,
            'framework_lock' => ['max_hold_ms' => 3600000],
            'webhook' => ['secret' => 'pk_live_x', 'tolerance_s' => 300],
        ], $env['monei_concurrency']);
        $config = new Config(new DeploymentConfig($env, []));
        self::assertSame(['redis_url' => 'redis://:pw@redis.internal:6379/2', 'key_prefix' => 'shop1:', 'lock_ttl_ms' => 20000, 'lock_wait_ms' => 10000], $config->connectionOptions());
        self::assertSame(['pk_live_x'], $config->webhookSecrets());
    }

    public function testNoOptionWritesNothing(): void
    {
        self::assertSame([[], ['db' => []]], self::configSet([], ['db' => []]));
    }

    /** @return array<string, array{string, string}> */
    public static function invalidValues(): array
    {
        return [
            'not a number' => ['--monei-concurrency-lock-wait-ms=soon', 'Invalid --monei-concurrency-lock-wait-ms (monei_concurrency/lock_wait_ms)'],
            'zero lease' => ['--monei-concurrency-lock-ttl-ms=0', 'Invalid --monei-concurrency-lock-ttl-ms (monei_concurrency/lock_ttl_ms)'],
            'too long' => ['--monei-concurrency-max-hold-ms=86400001', 'Invalid --monei-concurrency-max-hold-ms (monei_concurrency/max_hold_ms)'],
            'not a redis url' => ['--monei-concurrency-redis-url=http://:hunter2@example.com', 'Invalid --monei-concurrency-redis-url (monei_concurrency/redis_url)'],
            'negative retention' => ['--monei-concurrency-idempotency-retention-s=-5', 'Invalid --monei-concurrency-idempotency-retention-s (monei_concurrency/idempotency/retention_s)'],
            'negative tolerance' => ['--monei-concurrency-webhook-tolerance-s=-1', 'Invalid --monei-concurrency-webhook-tolerance-s (monei_concurrency/webhook/tolerance_s)'],
            'empty secret' => ['--monei-concurrency-webhook-secret=', 'Invalid --monei-concurrency-webhook-secret (monei_concurrency/webhook/secret)'],
        ];
    }

    /**
     * @dataProvider invalidValues
     */
    #[\PHPUnit\Framework\Attributes\DataProvider('invalidValues')]
    public function testAnInvalidValueIsNamedAndNothingIsWritten(string $arg, string $error): void
    {
        $before = ['monei_concurrency' => ['key_prefix' => 'kept:']];
        [$errors, $env] = self::configSet([$arg, '--monei-concurrency-key-prefix=new:'], $before);
        self::assertCount(1, $errors, implode("\n", $errors));
        self::assertStringStartsWith($error . ': ', $errors[0]);
        self::assertStringNotContainsString('hunter2', $errors[0], 'no password in the message');
        self::assertSame($before, $env, 'nothing written, not even the valid option');

        $this->expectException(\InvalidArgumentException::class);
        $list = new ConfigOptionsList();
        $list->createConfig((new ArgvInput(['bin/magento', $arg], new InputDefinition($list->getOptions())))->getOptions(), new DeploymentConfig([], []));
    }
}
