<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model;

use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\ProcessingLock;

/**
 * The extension's objects, built on first use from Config (constructing them
 * opens no connection; building them lazily keeps setup:di:compile and every
 * request that never locks free of configuration errors). Shared by DI, so one
 * per process; the extension's re-entrancy is per process anyway.
 */
class Backend
{
    private ?OrderLockManager $orderLocks = null;
    private ?OrderLockManager $frameworkLocks = null;
    private ?ProcessingLock $paymentLocks = null;
    private ?IdempotencyStore $idempotency = null;
    private ?PaymentStateMachine $stateMachine = null;

    public function __construct(private Config $config)
    {
    }

    public function config(): Config
    {
        return $this->config;
    }

    /** The order lock of an increment id (shared by OrderProcessor, the capture plugin and the MONEI drop-in). */
    public function orderLocks(): OrderLockManager
    {
        return $this->orderLocks ??= new OrderLockManager($this->config->connectionOptions());
    }

    /** The same lock family with the framework_lock options, for RedisLockManager's named locks. */
    public function frameworkLocks(): OrderLockManager
    {
        return $this->frameworkLocks ??= new OrderLockManager($this->config->frameworkLockOptions());
    }

    /** The (order, payment) locks. */
    public function paymentLocks(): ProcessingLock
    {
        return $this->paymentLocks ??= new ProcessingLock($this->config->connectionOptions());
    }

    public function idempotencyStore(): IdempotencyStore
    {
        return $this->idempotency ??= new IdempotencyStore($this->config->idempotencyOptions());
    }

    public function stateMachine(): PaymentStateMachine
    {
        return $this->stateMachine ??= new PaymentStateMachine($this->config->stateMachineOptions());
    }

    /**
     * \Monei\Concurrency\locks() against the Redis server and key prefix of
     * env.php: that function reads the INI values only, so they are set for
     * the duration of the call and restored afterwards.
     *
     * @return list<array<string, mixed>>
     */
    public function listLocks(?string $pattern, int $limit): array
    {
        $options = $this->config->connectionOptions();
        $saved = [];
        try {
            foreach (['redis_url', 'key_prefix', 'connect_timeout_ms', 'io_timeout_ms'] as $name) {
                if (isset($options[$name])) {
                    $saved[$name] = ini_get('monei_concurrency.' . $name);
                    ini_set('monei_concurrency.' . $name, (string) $options[$name]);
                }
            }
            return \Monei\Concurrency\locks($pattern, $limit);
        } finally {
            foreach ($saved as $name => $value) {
                ini_set('monei_concurrency.' . $name, (string) $value);
            }
        }
    }

    /**
     * A wait in Magento's seconds as the extension's milliseconds: negative
     * means "without limit", which becomes the longest wait the extension
     * allows (86,400,000 ms = 24 h); longer waits are capped there too.
     */
    public static function waitMs(int $timeoutS): int
    {
        if ($timeoutS < 0 || $timeoutS >= intdiv(Config::MAX_MS, 1000)) {
            return Config::MAX_MS;
        }
        return $timeoutS * 1000;
    }
}
