<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model;

use Magento\Framework\App\DeploymentConfig;

/**
 * The settings of the module, from app/etc/env.php:
 *
 *     'monei_concurrency' => [
 *         'redis_url'    => 'redis://127.0.0.1:6379/0',   // any connection setting of the extension
 *         'key_prefix'   => 'shop1:',
 *         'lock_wait_ms' => 10000,
 *         'framework_lock' => ['max_hold_ms' => 86400000],  // RedisLockManager only
 *         'idempotency'    => ['retention_s' => 86400, 'in_progress_ttl_ms' => 60000],
 *         'state_machine'  => ['retention_s' => 2592000],   // or 'transitions' => [...]
 *         'webhook'        => ['secret' => 'pk_live_...', 'tolerance_s' => 0, 'duplicate_wait_ms' => 3000],
 *         'stuck_payments' => ['older_than_s' => 1800],
 *         'metrics'        => ['enabled' => true, 'allow' => ['127.0.0.1', '10.0.0.0/8']],
 *     ],
 *
 * Every setting is read as its own leaf (DeploymentConfig::get('monei_concurrency/redis_url')),
 * never as the whole array: Magento applies its environment overrides
 * (MAGENTO_DC_MONEI_CONCURRENCY__REDIS_URL=...) to leaves only.
 * `bin/magento setup:config:set --monei-concurrency-...` writes the same
 * leaves (Setup\ConfigOptionsList).
 *
 * Only the settings that are set are passed to the extension; everything else
 * falls back to the monei_concurrency.* INI values. Numeric strings (what
 * environment variables and setup:config:set produce) are passed as
 * integers, since the extension's options are strictly typed.
 */
class Config
{
    public const ENV_KEY = 'monei_concurrency';

    /** The connection settings every extension class accepts. */
    public const CONNECTION_KEYS = [
        'redis_url', 'key_prefix', 'lock_ttl_ms', 'lock_wait_ms', 'max_hold_ms',
        'connect_timeout_ms', 'io_timeout_ms', 'slow_hold_ms',
    ];

    /** Longest wait, lease and hold the extension accepts (24 h). */
    public const MAX_MS = 86_400_000;

    private const STRING_KEYS = ['redis_url', 'key_prefix'];

    public const DEFAULT_STUCK_OLDER_THAN_S = 1800;

    public function __construct(private DeploymentConfig $deploymentConfig)
    {
    }

    /**
     * One setting by its path below monei_concurrency ("redis_url",
     * "webhook/secret"); null when not set.
     */
    public function value(string $path): mixed
    {
        $value = $this->deploymentConfig->get(self::ENV_KEY . '/' . $path);
        return $value === '' ? null : $value;
    }

    /** @return array<string, string|int> options for OrderLockManager / ProcessingLock */
    public function connectionOptions(): array
    {
        return $this->pick('', self::CONNECTION_KEYS);
    }

    /**
     * Options of the framework-wide lock backend (RedisLockManager): the
     * connection settings, then `framework_lock` on top. max_hold_ms defaults
     * to the maximum (24 h) there, because Magento holds cron-group and
     * indexer locks for the whole job, which can outlast the extension's
     * 10-minute default; set framework_lock.max_hold_ms to lower it.
     *
     * @return array<string, string|int>
     */
    public function frameworkLockOptions(): array
    {
        return $this->pick('framework_lock/', self::CONNECTION_KEYS)
            + $this->connectionOptions()
            + ['max_hold_ms' => self::MAX_MS];
    }

    /** @return array<string, mixed> options for IdempotencyStore */
    public function idempotencyOptions(): array
    {
        return $this->pick('idempotency/', ['retention_s', 'in_progress_ttl_ms']) + $this->connectionOptions();
    }

    /** @return array<string, mixed> options for PaymentStateMachine */
    public function stateMachineOptions(): array
    {
        $options = $this->pick('state_machine/', ['retention_s']);
        $transitions = $this->value('state_machine/transitions');
        if (is_array($transitions)) {
            $options['transitions'] = $transitions;
        }
        return $options + $this->connectionOptions();
    }

    /** @return list<string> the webhook signing secrets (MONEI account API key; several during a rotation) */
    public function webhookSecrets(): array
    {
        $secret = $this->value('webhook/secret') ?? [];
        $list = is_array($secret) ? array_values($secret) : [$secret];
        return array_values(array_filter(array_map('strval', $list), static fn (string $s) => $s !== ''));
    }

    /**
     * Allowed distance of the signature timestamp from now, in seconds. 0
     * (the default) disables the check, as MONEI's own SDK does: replays are
     * absorbed by the idempotency record and the state machine anyway.
     */
    public function webhookToleranceS(): int
    {
        return max(0, self::int($this->value('webhook/tolerance_s') ?? 0));
    }

    /** How long a duplicate delivery waits for the first one to finish before answering 409. */
    public function webhookDuplicateWaitMs(): int
    {
        return min(self::MAX_MS, max(0, self::int($this->value('webhook/duplicate_wait_ms') ?? 3000)));
    }

    /** Threshold of the stuck-payments cron job, in seconds (default 30 minutes). */
    public function stuckOlderThanS(): int
    {
        $value = $this->value('stuck_payments/older_than_s');
        if ($value === null) {
            return self::DEFAULT_STUCK_OLDER_THAN_S;
        }
        if (!(is_int($value) || (is_string($value) && preg_match('/^\d+$/', $value)))) {
            throw new \InvalidArgumentException('monei_concurrency/stuck_payments/older_than_s must be a number of seconds (0 or more)');
        }
        return (int) $value;
    }

    /** Whether GET /monei_concurrency/metrics answers at all (off unless metrics/enabled is set). */
    public function metricsEnabled(): bool
    {
        return in_array($this->value('metrics/enabled'), [true, 1, '1', 'true'], true);
    }

    /** @return list<string> addresses and CIDR ranges allowed to scrape (default: loopback only) */
    public function metricsAllowList(): array
    {
        $allow = $this->value('metrics/allow') ?? ['127.0.0.1', '::1'];
        $list = is_array($allow) ? array_values($allow) : explode(',', (string) $allow);
        return array_values(array_filter(array_map(static fn ($a) => trim((string) $a), $list), static fn (string $a) => $a !== ''));
    }

    /** @return array<string, mixed> the leaves $section.$name that are set, numeric strings as int */
    private function pick(string $section, array $names): array
    {
        $out = [];
        foreach ($names as $name) {
            $value = $this->value($section . $name);
            if ($value === null) {
                continue;
            }
            $out[$name] = self::normalise($name, $value);
        }
        return $out;
    }

    /** A numeric string as an integer, except for the string settings. */
    public static function normalise(string $name, mixed $value): mixed
    {
        if (!in_array($name, self::STRING_KEYS, true) && is_string($value) && preg_match('/^\d+$/', $value)) {
            return (int) $value;
        }
        return $value;
    }

    private static function int(mixed $v): int
    {
        return is_int($v) ? $v : (is_string($v) && preg_match('/^-?\d+$/', $v) ? (int) $v : 0);
    }
}
