<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\PhpProcess;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * Passwords stay masked in messages and phpinfo() however they are written,
 * including generated ones with a raw '/' (the user info ends at the last
 * '@' before the query, not at the first '/').
 */
final class UrlPasswordMaskingTest extends RedisTestCase
{
    /** @return iterable<string, array{string}> */
    public static function urls(): iterable
    {
        yield 'password with a slash' => ['redis://:Zx9/Secret+Pw==@127.0.0.1:6379'];
        yield 'user, password with a slash, db' => ['redis://app:Zx9/Secret+Pw==@127.0.0.1:6379/0'];
    }

    /** @dataProvider urls */
    #[DataProvider('urls')]
    public function testTheErrorMessageDoesNotContainThePassword(string $url): void
    {
        try {
            new ProcessingLock(['redis_url' => $url]);
            self::fail('an unencoded "/" in the password makes the URL invalid');
        } catch (InvalidArgumentException $e) {
            self::assertStringNotContainsString('Secret', $e->getMessage());
        }
    }

    /** @dataProvider urls */
    #[DataProvider('urls')]
    public function testPhpinfoDoesNotShowThePassword(string $url): void
    {
        [$code, $out, $err] = PhpProcess::run('<?php phpinfo(INFO_MODULES);', [], ['-d', 'monei_concurrency.redis_url=' . $url]);
        self::assertSame(0, $code, $err);
        self::assertStringContainsString('monei_concurrency.redis_url', $out);
        self::assertStringNotContainsString('Secret', $out);
    }
}
