<?php

declare(strict_types=1);

// Bug: a Redis password containing a raw '/' (common in generated base64
// passwords) is printed in clear text:
//   new ProcessingLock(['redis_url' => 'redis://app:Ab/Cd@127.0.0.1:6379'])
//   -> InvalidArgumentException: invalid redis_url "redis://app:Ab/Cd@127.0.0.1:6379": cannot parse
// and phpinfo() shows monei_concurrency.redis_url unmasked for such a URL.
//
// Diagnosis: core/src/config.rs mask_url() (line ~210) takes the authority
// as everything up to the FIRST '/' after "://", so for ":Ab/Cd@host" the
// authority is ":Ab", which has no '@', and the URL is returned as is. The
// userinfo should be found by the LAST '@' before the path (or the
// password masked whenever the URL cannot be parsed). Both the error
// message (pool.rs endpoint(): cfg.masked_url()) and phpinfo (src/lib.rs,
// mask_url) go through it.

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\PhpProcess;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use PHPUnit\Framework\Attributes\DataProvider;

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
