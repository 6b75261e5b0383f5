<?php
// The locks a Magento store running MONEI takes today, written from their
// documented behaviour (no Magento or MONEI code): Magento's two lock
// backends (Magento\Framework\Lock\LockManagerInterface: lock / unlock /
// isLocked) and MONEI's lock manager on top of either of them.
//
// Used by the bench anchors (bench/lib/common.php) and by the GET_LOCK path
// of the end-to-end webhook app (tests/e2e/app/locks.php).

declare(strict_types=1);

/** Magento's lock backend interface: lock($name, $timeoutS), unlock($name), isLocked($name). */
interface MagentoLockBackend
{
    public function lock(string $name, int $timeoutS): bool;

    public function unlock(string $name): bool;

    public function isLocked(string $name): bool;
}

/**
 * Magento's database backend: MySQL/MariaDB user-level locks on the store's
 * own database connection (one connection per PHP process). GET_LOCK waits
 * in the server up to $timeoutS seconds (a negative timeout means one week:
 * MariaDB has no "forever"); the name is prefixed with the installation's
 * prefix and "|", and a name longer than the 64 characters the server
 * accepts becomes the prefix plus the md5 of the name. One lock per
 * connection: taking a second one while holding one is refused.
 */
final class MagentoDatabaseLock implements MagentoLockBackend
{
    private const MAX_NAME = 64;
    private const FOREVER_S = 604800;
    private ?string $held = null;
    /** @var array<string, PDOStatement> */
    private array $stmts = [];

    public function __construct(private PDO $db, private string $prefix = 'magento')
    {
    }

    /**
     * A PDO MySQL connection to the MariaDB server at $where (a unix socket's
     * path, or host:port), as Magento opens one; $persistent keeps it open
     * across PHP-FPM requests.
     */
    public static function connect(string $where, bool $persistent = false): PDO
    {
        $at = str_starts_with($where, '/') ? "unix_socket=$where"
            : 'host=' . substr($where, 0, strrpos($where, ':')) . ';port=' . substr($where, strrpos($where, ':') + 1);
        return new PDO("mysql:$at;charset=utf8mb4", 'root', '', [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_PERSISTENT => $persistent,
        ]);
    }

    private function name(string $name): string
    {
        $full = $this->prefix . '|' . $name;
        return strlen($full) <= self::MAX_NAME ? $full : $this->prefix . '|' . md5($name);
    }

    private function scalar(string $sql, array $args): mixed
    {
        $st = $this->stmts[$sql] ??= $this->db->prepare($sql);
        $st->execute($args);
        $v = $st->fetchColumn();
        $st->closeCursor();
        return $v;
    }

    public function lock(string $name, int $timeoutS): bool
    {
        if ($this->held !== null) {
            throw new LogicException("this connection already holds the lock {$this->held}: one lock per connection");
        }
        $name = $this->name($name);
        $ok = (int) $this->scalar('SELECT GET_LOCK(?, ?)', [$name, $timeoutS < 0 ? self::FOREVER_S : $timeoutS]) === 1;
        if ($ok) {
            $this->held = $name;
        }
        return $ok;
    }

    public function unlock(string $name): bool
    {
        $ok = (int) $this->scalar('SELECT RELEASE_LOCK(?)', [$this->name($name)]) === 1;
        if ($ok) {
            $this->held = null;
        }
        return $ok;
    }

    public function isLocked(string $name): bool
    {
        return $this->scalar('SELECT IS_USED_LOCK(?)', [$this->name($name)]) !== null;
    }
}

/**
 * Magento's cache backend over Redis (phpredis): isLocked() reads the key,
 * lock() writes it with the timeout as its lifetime, unlock() deletes it.
 * Nothing makes "is it free? then take it" atomic: lock() takes a lock that
 * is held, and two processes that both found it free both get it.
 */
final class MagentoCacheLock implements MagentoLockBackend
{
    private const PREFIX = 'LOCKED_RECORD_INFO_';

    public function __construct(private Redis $redis)
    {
    }

    public function lock(string $name, int $timeoutS): bool
    {
        return (bool) $this->redis->set(self::PREFIX . $name, '1', $timeoutS > 0 ? ['ex' => $timeoutS] : []);
    }

    public function unlock(string $name): bool
    {
        return (bool) $this->redis->del(self::PREFIX . $name);
    }

    public function isLocked(string $name): bool
    {
        return $this->redis->get(self::PREFIX . $name) !== false;
    }
}

/**
 * MONEI's lock manager on a Magento backend, as its payment code calls it:
 * lock name MONEI_PAYMENT_LOCK_<order>_<payment>; a caller that finds the
 * payment locked waits for it with waitForPaymentUnlock() (isLocked() every
 * 500 ms, up to 15 s), then takes it with lock($name, 5); the release calls
 * unlock() while isLocked() says it is held, at most 3 times.
 *
 * With $poll = false only the backend's own wait is used (lock($name, 5),
 * for GET_LOCK a wait inside the server): the best the backend can do.
 */
final class MoneiLockManager
{
    public const LOCK_TIMEOUT_S = 5;
    public const WAIT_INTERVAL_MS = 500;
    public const MAX_WAIT_S = 15;

    public function __construct(private MagentoLockBackend $backend, private bool $poll = true)
    {
    }

    /** Runs $work holding the payment lock; false if the lock could not be taken in time. */
    public function executeWithPaymentLock(string $order, string $payment, callable $work, int $timeoutS = self::LOCK_TIMEOUT_S): mixed
    {
        $name = "MONEI_PAYMENT_LOCK_{$order}_{$payment}";
        if ($this->poll && $this->backend->isLocked($name)) {
            $this->waitForUnlock($name);
        }
        if (!$this->backend->lock($name, $timeoutS)) {
            throw new MoneiLockTimeout("could not take $name within $timeoutS s");
        }
        try {
            return $work();
        } finally {
            for ($i = 0; $i < 3 && $this->backend->isLocked($name); $i++) {
                $this->backend->unlock($name);
            }
        }
    }

    private function waitForUnlock(string $name): bool
    {
        $end = microtime(true) + self::MAX_WAIT_S;
        while (microtime(true) < $end) {
            if (!$this->backend->isLocked($name)) {
                return true;
            }
            usleep(self::WAIT_INTERVAL_MS * 1000);
        }
        return false;
    }
}

final class MoneiLockTimeout extends RuntimeException
{
}
