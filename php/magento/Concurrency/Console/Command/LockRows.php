<?php

declare(strict_types=1);

namespace Monei\Concurrency\Console\Command;

use Monei\Concurrency\Model\Lock\RedisLockManager;

/** Shared formatting of the holder records returned by locks() and inspect(). */
final class LockRows
{
    /**
     * Kind and readable name of a resource: "order:100000123" -> [order, 100000123],
     * "payment:100000123:pay_1" -> [payment, 100000123:pay_1], and the named
     * Magento locks of RedisLockManager ("order:magento:<name>") -> [lock, <name>].
     *
     * @return array{0: string, 1: string}
     */
    public static function describe(string $resource): array
    {
        foreach ([RedisLockManager::ID_PREFIX => '', RedisLockManager::HASHED_ID_PREFIX => 'sha256:'] as $prefix => $shown) {
            if (str_starts_with($resource, 'order:' . $prefix)) {
                return ['lock', $shown . substr($resource, strlen('order:' . $prefix))];
            }
        }
        $colon = strpos($resource, ':');
        return $colon === false ? ['?', $resource] : [substr($resource, 0, $colon), substr($resource, $colon + 1)];
    }

    /** One line of text for a holder record. */
    public static function line(array $lock): string
    {
        [$kind, $name] = self::describe((string) $lock['resource']);
        return sprintf(
            '%-8s %-40s %-24s held %8.1fs  ttl %6.1fs  waiters %-3d token %d  %s',
            $kind,
            self::printable($name),
            self::printable($lock['host'] . ':' . $lock['pid']),
            $lock['held_ms'] / 1000,
            $lock['ttl_ms'] / 1000,
            $lock['waiters'],
            $lock['token'],
            self::printable((string) $lock['request']),
        );
    }

    /** Control and non-UTF-8 bytes escaped, so ids cannot rewrite the terminal. */
    public static function printable(string $s): string
    {
        if (!mb_check_encoding($s, 'UTF-8')) {
            $s = mb_convert_encoding($s, 'UTF-8', 'ISO-8859-1');
        }
        return (string) preg_replace_callback('/[\x00-\x1f\x7f]/', static fn ($m) => sprintf('\\x%02x', ord($m[0])), $s);
    }
}
