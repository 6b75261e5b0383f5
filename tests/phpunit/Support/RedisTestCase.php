<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Support;

use PHPUnit\Framework\TestCase;

/**
 * Base for tests that talk to the real redis-server of `make test`.
 * Every test gets its own key prefix, so tests never see each other's keys.
 */
abstract class RedisTestCase extends TestCase
{
    protected string $prefix;

    protected function setUp(): void
    {
        $this->prefix = 'php' . getmypid() . '-' . bin2hex(random_bytes(4)) . ':';
    }

    /** @return array<string, string|int> */
    protected function options(array $extra = []): array
    {
        return $extra + ['redis_url' => self::redisUrl(), 'key_prefix' => $this->prefix];
    }

    protected static function redisUrl(): string
    {
        return (string) getenv('REDIS_URL');
    }
}
