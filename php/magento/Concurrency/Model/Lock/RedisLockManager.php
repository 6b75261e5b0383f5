<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Lock;

use Magento\Framework\Lock\LockManagerInterface;
use Monei\Concurrency\Model\Backend;

/**
 * Magento's lock API on the extension's Redis locks, selected for the whole
 * store in etc/di.xml, so cron groups, indexers and every module calling
 * LockManagerInterface get atomic, re-entrant, lease-based locks.
 *
 * Backed by OrderLockManager, whose lock()/unlock()/isLocked() already have
 * Magento's semantics (a named lock, re-entrant per process, unlock() true
 * only for the holder), rather than ProcessingLock, whose (order, payment)
 * pairs and Lease objects would have to be faked around a single name.
 *
 * Names are namespaced so they never meet the order locks of OrderProcessor
 * and the MONEI drop-in in the same key space: the lock id is
 * "magento:<name>", or "magento#sha256:<hex of sha256(name)>" when that would
 * exceed the extension's 255-byte id limit or the name contains a NUL byte.
 * Any name works, including long ones; the two forms never collide.
 *
 * $timeout is the wait in seconds, as in Magento: 0 = do not wait, negative =
 * wait without limit, mapped to the longest wait the extension allows
 * (86,400,000 ms = 24 h; longer timeouts are capped there too). The lease is
 * renewed by the extension's watchdog while held, for at most max_hold_ms
 * (24 h here unless env.php says otherwise), and released at the latest when
 * the PHP request ends. If Redis is unreachable, lock() throws
 * BackendUnavailableException (fail closed) instead of returning false.
 */
class RedisLockManager implements LockManagerInterface
{
    public const ID_PREFIX = 'magento:';
    public const HASHED_ID_PREFIX = 'magento#sha256:';
    private const MAX_ID_BYTES = 255;

    public function __construct(private Backend $backend)
    {
    }

    /** @inheritdoc */
    public function lock(string $name, int $timeout = -1): bool
    {
        return $this->backend->frameworkLocks()->lock(self::lockId($name), Backend::waitMs($timeout));
    }

    /** @inheritdoc */
    public function unlock(string $name): bool
    {
        return $this->backend->frameworkLocks()->unlock(self::lockId($name));
    }

    /** @inheritdoc */
    public function isLocked(string $name): bool
    {
        return $this->backend->frameworkLocks()->isLocked(self::lockId($name));
    }

    /** The extension's lock id (an OrderLockManager id) of a Magento lock name. */
    public static function lockId(string $name): string
    {
        $id = self::ID_PREFIX . $name;
        if (strlen($id) > self::MAX_ID_BYTES || str_contains($name, "\0")) {
            return self::HASHED_ID_PREFIX . hash('sha256', $name);
        }
        return $id;
    }
}
