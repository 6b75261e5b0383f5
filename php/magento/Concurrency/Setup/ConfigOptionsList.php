<?php

declare(strict_types=1);

namespace Monei\Concurrency\Setup;

use Magento\Framework\App\DeploymentConfig;
use Magento\Framework\Config\Data\ConfigData;
use Magento\Framework\Config\File\ConfigFilePool;
use Magento\Framework\Setup\ConfigOptionsListInterface;
use Magento\Framework\Setup\Option\TextConfigOption;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\Model\Config;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\PaymentStateMachine;

/**
 * `bin/magento setup:config:set --monei-concurrency-...` options: each one
 * writes one leaf of the monei_concurrency array in app/etc/env.php.
 * Magento finds this class by name (<Vendor>\<Module>\Setup\ConfigOptionsList).
 *
 * Magento calls validate() for every module before writing anything; a value
 * the extension would refuse is reported there, naming the option and the
 * env.php key, and nothing is written. The values are checked by the
 * extension's own constructors (OrderLockManager, IdempotencyStore,
 * PaymentStateMachine), merged over what env.php already holds, so a
 * combination the extension refuses is caught too. Constructing them opens
 * no connection: Redis need not be reachable from the build machine.
 */
class ConfigOptionsList implements ConfigOptionsListInterface
{
    public const OPTION_PREFIX = 'monei-concurrency-';

    /** option name (without the prefix) => [path below monei_concurrency, description, secret?] */
    private const OPTIONS = [
        'redis-url' => ['redis_url', 'Redis URL of the locks, e.g. redis://:password@redis.internal:6379/2 (rediss:// for TLS)', true],
        'key-prefix' => ['key_prefix', 'Prefix of every Redis key (one per store sharing a Redis)', false],
        'lock-ttl-ms' => ['lock_ttl_ms', 'Lease of a lock in ms, renewed while held', false],
        'lock-wait-ms' => ['lock_wait_ms', 'How long an order lock is waited for, in ms', false],
        'max-hold-ms' => ['max_hold_ms', 'Longest time a lock is renewed for, in ms', false],
        'connect-timeout-ms' => ['connect_timeout_ms', 'Redis connect timeout in ms', false],
        'io-timeout-ms' => ['io_timeout_ms', 'Redis read/write timeout in ms', false],
        'slow-hold-ms' => ['slow_hold_ms', 'Holds longer than this are logged, in ms', false],
        'framework-lock-max-hold-ms' => ['framework_lock/max_hold_ms', 'Longest hold of Magento named locks (cron, indexers), in ms', false],
        'idempotency-retention-s' => ['idempotency/retention_s', 'How long a processed webhook is remembered, in s', false],
        'idempotency-in-progress-ttl-ms' => ['idempotency/in_progress_ttl_ms', 'How long a crashed worker\'s claim lives, in ms', false],
        'state-machine-retention-s' => ['state_machine/retention_s', 'How long a payment status is kept, in s', false],
        'webhook-secret' => ['webhook/secret', 'MONEI account API key that signs the webhooks', true],
        'webhook-tolerance-s' => ['webhook/tolerance_s', 'Maximum age of a webhook signature in s (0 = not checked)', false],
        'webhook-duplicate-wait-ms' => ['webhook/duplicate_wait_ms', 'How long a duplicate webhook waits for the first one, in ms', false],
    ];

    /** @inheritdoc */
    public function getOptions()
    {
        $options = [];
        foreach (self::OPTIONS as $name => [$path, $description, $secret]) {
            $options[] = new TextConfigOption(
                self::OPTION_PREFIX . $name,
                $secret ? TextConfigOption::FRONTEND_WIZARD_PASSWORD : TextConfigOption::FRONTEND_WIZARD_TEXT,
                Config::ENV_KEY . '/' . $path,
                $description,
            );
        }
        return $options;
    }

    /**
     * @inheritdoc
     * @throws \InvalidArgumentException a value is invalid (Magento validates first, so this only guards direct calls)
     */
    public function createConfig(array $options, DeploymentConfig $deploymentConfig)
    {
        $errors = $this->validate($options, $deploymentConfig);
        if ($errors !== []) {
            throw new \InvalidArgumentException(implode(' ', $errors));
        }
        $given = $this->given($options);
        if ($given === []) {
            return [];
        }
        $data = new ConfigData(ConfigFilePool::APP_ENV);
        foreach ($given as $path => $value) {
            $data->set(Config::ENV_KEY . '/' . $path, $value);
        }
        return [$data];
    }

    /** @inheritdoc */
    public function validate(array $options, DeploymentConfig $deploymentConfig)
    {
        $errors = [];
        $current = new Config($deploymentConfig);
        $given = $this->given($options);
        foreach ($given as $path => $value) {
            $error = $this->check($path, $value, $current);
            if ($error !== null) {
                $errors[] = sprintf('Invalid --%s (%s/%s): %s', self::optionName($path), Config::ENV_KEY, $path, $error);
            }
        }
        if ($errors === [] && $given !== []) {
            // Each value is fine alone; now all of them together.
            $error = $this->checkTogether($given, $current);
            if ($error !== null) {
                $names = implode(', ', array_map(static fn ($p) => '--' . self::optionName($p), array_keys($given)));
                $errors[] = "Invalid combination of $names: $error";
            }
        }
        return $errors;
    }

    /** Why the extension refuses all of $given together (over what env.php holds), or null. */
    private function checkTogether(array $given, Config $current): ?string
    {
        $section = static function (string $prefix) use ($given): array {
            $out = [];
            foreach ($given as $path => $value) {
                if ($prefix === '' ? !str_contains($path, '/') : str_starts_with($path, $prefix)) {
                    $out[basename($path)] = $value;
                }
            }
            return $out;
        };
        $connection = $section('') + $current->connectionOptions();
        try {
            new OrderLockManager($connection);
            new OrderLockManager($section('framework_lock/') + $connection + $current->frameworkLockOptions());
            new IdempotencyStore($section('idempotency/') + $connection + $current->idempotencyOptions());
            new PaymentStateMachine($section('state_machine/') + $connection + $current->stateMachineOptions());
        } catch (InvalidArgumentException | \TypeError $e) {
            return self::withoutCredentials($e->getMessage());
        }
        return null;
    }

    /** @return array<string, mixed> path => value of the options given on the command line */
    private function given(array $options): array
    {
        $out = [];
        foreach (self::OPTIONS as $name => [$path]) {
            $value = $options[self::OPTION_PREFIX . $name] ?? null;
            if ($value === null) {
                continue;
            }
            $out[$path] = Config::normalise(basename($path), $value);
        }
        return $out;
    }

    /** Why the extension refuses $value at $path (with the rest of env.php as it is), or null. */
    private function check(string $path, mixed $value, Config $current): ?string
    {
        if ($value === '') {
            return 'must not be empty';
        }
        try {
            if ($path === 'webhook/secret') {
                return is_string($value) ? null : 'must be a string';
            }
            if (str_starts_with($path, 'webhook/')) {
                return is_int($value) && $value <= Config::MAX_MS ? null : 'must be a whole number from 0 to ' . Config::MAX_MS;
            }
            $key = basename($path);
            match (dirname($path)) {
                '.' => new OrderLockManager([$key => $value] + $current->connectionOptions()),
                'framework_lock' => new OrderLockManager([$key => $value] + $current->frameworkLockOptions()),
                'idempotency' => new IdempotencyStore([$key => $value] + $current->idempotencyOptions()),
                'state_machine' => new PaymentStateMachine([$key => $value] + $current->stateMachineOptions()),
            };
        } catch (InvalidArgumentException | \TypeError $e) {
            return self::withoutCredentials($e->getMessage());
        }
        return null;
    }

    private static function optionName(string $path): string
    {
        foreach (self::OPTIONS as $name => [$p]) {
            if ($p === $path) {
                return self::OPTION_PREFIX . $name;
            }
        }
        return $path;
    }

    /** Never echo a password that was part of a URL in the message. */
    private static function withoutCredentials(string $message): string
    {
        return (string) preg_replace('#(\w+://)[^@/\s]*@#', '$1***@', $message);
    }
}
