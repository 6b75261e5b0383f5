<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\WebhookSignature;
use PHPUnit\Framework\TestCase;
use PHPUnit\Framework\Attributes\DataProvider;

/**
 * WebhookSignature::verify() against signatures made with PHP's own
 * hash_hmac(): payload encodings, key rotation, the timestamp window, and
 * malformed headers (false, never an exception).
 */
final class WebhookSignatureTest extends TestCase
{
    private const T = 1700000000;
    private const SECRET = 'sk_test_0123456789abcdef';

    private static function sign(string $payload, int $t, string $secret): string
    {
        return hash_hmac('sha256', $t . '.' . $payload, $secret);
    }

    private static function header(string $payload, int $t, string $secret): string
    {
        return 't=' . $t . ',v1=' . self::sign($payload, $t, $secret);
    }

    public function testAFixedVectorMatchesHashHmac(): void
    {
        $payload = '{"id":"pay_1"}';
        $sig = hash_hmac('sha256', '1700000000.' . $payload, 'sk_test');
        self::assertSame('f903d6ddd5425362780b8de8fbf8cbfde4a2e8a5223a6e51de89fb8e0ed400f2', $sig);
        self::assertTrue(WebhookSignature::verify($payload, "t=1700000000,v1=$sig", 'sk_test', 300, 1700000000));
        self::assertTrue(WebhookSignature::verify($payload, "t=1700000000,v1=$sig", ['sk_test'], 300, 1700000000));
        self::assertFalse(WebhookSignature::verify($payload . ' ', "t=1700000000,v1=$sig", 'sk_test', 300, 1700000000));
        self::assertFalse(WebhookSignature::verify($payload, "t=1700000000,v1=$sig", 'sk_tesT', 300, 1700000000));
    }

    /** @return array<string, array{string}> */
    public static function payloads(): array
    {
        mt_srand(20240611);
        $random = '';
        for ($i = 0; $i < 2048; $i++) {
            $random .= chr(mt_rand(0, 255));
        }
        return [
            'empty' => [''],
            'json' => ['{"id":"af6029f80f5fc73a8ad2753eea0b1be0","amount":110,"currency":"EUR","status":"SUCCEEDED"}'],
            'single NUL' => ["\0"],
            'NUL bytes inside' => ["a\0b\0\0c\0"],
            'random binary' => [$random],
            'invalid UTF-8' => ["\xff\xfe\x80abc\xc3"],
            'unicode' => ['{"description":"Café ñandú 日本語 🙂 ∑"}'],
            'looks like a header' => ['t=1,v1=' . str_repeat('0', 64)],
            'one MiB' => [str_repeat('0123456789abcdef', 65536)],
        ];
    }

    /** @dataProvider payloads */
    #[DataProvider('payloads')]
    public function testPayloadsSignedWithHashHmacVerify(string $payload): void
    {
        $secrets = [self::SECRET, "bin\0secret\xff", 'ü-secret'];
        foreach ($secrets as $secret) {
            $header = self::header($payload, self::T, $secret);
            self::assertTrue(WebhookSignature::verify($payload, $header, $secret, 300, self::T), 'signed with ' . bin2hex($secret));
            // Each secret only verifies its own signature.
            foreach ($secrets as $other) {
                if ($other !== $secret) {
                    self::assertFalse(WebhookSignature::verify($payload, $header, $other, 300, self::T));
                }
            }
            // The timestamp is part of what is signed.
            $moved = 't=' . (self::T + 1) . ',v1=' . self::sign($payload, self::T, $secret);
            self::assertFalse(WebhookSignature::verify($payload, $moved, $secret, 300, self::T));
        }
        // Any change of the payload, even the last byte or an appended NUL, fails.
        $header = self::header($payload, self::T, self::SECRET);
        self::assertFalse(WebhookSignature::verify($payload . "\0", $header, self::SECRET, 300, self::T));
        if ($payload !== '') {
            $flipped = substr($payload, 0, -1) . chr(ord($payload[-1]) ^ 1);
            self::assertFalse(WebhookSignature::verify($flipped, $header, self::SECRET, 300, self::T));
            self::assertFalse(WebhookSignature::verify('', $header, self::SECRET, 300, self::T));
        }
        // A signature with one hex digit changed fails.
        $sig = self::sign($payload, self::T, self::SECRET);
        $bad = substr($sig, 0, 20) . ($sig[20] === '0' ? '1' : '0') . substr($sig, 21);
        self::assertFalse(WebhookSignature::verify($payload, 't=' . self::T . ",v1=$bad", self::SECRET, 300, self::T));
    }

    public function testRotationAcceptsEitherSecretAndAnyV1Entry(): void
    {
        $payload = '{"id":"pay_rot","status":"AUTHORIZED"}';
        $old = 'sk_old_secret';
        $new = 'sk_new_secret';
        $t = self::T;
        $sigOld = self::sign($payload, $t, $old);
        $sigNew = self::sign($payload, $t, $new);
        $sigOther = self::sign($payload, $t, 'sk_unrelated');

        foreach ([[$old, $new], [$new, $old]] as $secrets) {
            self::assertTrue(WebhookSignature::verify($payload, "t=$t,v1=$sigOld", $secrets, 300, $t));
            self::assertTrue(WebhookSignature::verify($payload, "t=$t,v1=$sigNew", $secrets, 300, $t));
            self::assertFalse(WebhookSignature::verify($payload, "t=$t,v1=$sigOther", $secrets, 300, $t));
        }
        // Only the new secret configured: the old signature no longer passes.
        self::assertFalse(WebhookSignature::verify($payload, "t=$t,v1=$sigOld", [$new], 300, $t));

        // Several v1 entries: any one matching is enough, in any position.
        self::assertTrue(WebhookSignature::verify($payload, "t=$t,v1=$sigOther,v1=$sigNew", $new, 300, $t));
        self::assertTrue(WebhookSignature::verify($payload, "t=$t,v1=$sigNew,v1=$sigOther", $new, 300, $t));
        self::assertTrue(WebhookSignature::verify($payload, "v1=$sigOther,t=$t,v1=$sigOld", [$new, $old], 300, $t));
        self::assertTrue(WebhookSignature::verify($payload, "t=$t,v1=$sigOld,v1=$sigNew", $old, 300, $t));
        self::assertFalse(WebhookSignature::verify($payload, "t=$t,v1=$sigOld,v1=$sigOther", $new, 300, $t));
        // Unknown schemes are ignored, they neither help nor hurt.
        self::assertTrue(WebhookSignature::verify($payload, "t=$t,v0=abc,v1=$sigNew", $new, 300, $t));
        self::assertFalse(WebhookSignature::verify($payload, "t=$t,v0=$sigNew,v1=$sigOther", $new, 300, $t));
    }

    public function testToleranceBoundariesInBothDirections(): void
    {
        $payload = '{"id":"pay_time"}';
        $t = self::T;
        $h = self::header($payload, $t, self::SECRET);
        foreach ([300, 1, 5, 86400] as $tol) {
            self::assertTrue(WebhookSignature::verify($payload, $h, self::SECRET, $tol, $t), "now = t, tolerance $tol");
            self::assertTrue(WebhookSignature::verify($payload, $h, self::SECRET, $tol, $t + $tol), "t + $tol");
            self::assertTrue(WebhookSignature::verify($payload, $h, self::SECRET, $tol, $t - $tol), "t - $tol");
            self::assertFalse(WebhookSignature::verify($payload, $h, self::SECRET, $tol, $t + $tol + 1), 't + ' . ($tol + 1));
            self::assertFalse(WebhookSignature::verify($payload, $h, self::SECRET, $tol, $t - $tol - 1), 't - ' . ($tol + 1));
        }
        // The default tolerance is 300 s.
        self::assertTrue(WebhookSignature::verify($payload, $h, self::SECRET, now: $t + 300));
        self::assertFalse(WebhookSignature::verify($payload, $h, self::SECRET, now: $t + 301));
        self::assertFalse(WebhookSignature::verify($payload, $h, self::SECRET, now: $t - 301));
        // 0 disables the check, however far apart.
        foreach ([0, $t - 1_000_000_000, $t + 2_000_000_000, PHP_INT_MAX, PHP_INT_MIN] as $now) {
            self::assertTrue(WebhookSignature::verify($payload, $h, self::SECRET, 0, $now), "tolerance 0, now $now");
        }
        // Extreme values of now do not overflow into acceptance.
        self::assertFalse(WebhookSignature::verify($payload, $h, self::SECRET, 300, PHP_INT_MAX));
        self::assertFalse(WebhookSignature::verify($payload, $h, self::SECRET, 300, PHP_INT_MIN));
        // A wrong signature stays wrong with the check disabled.
        self::assertFalse(WebhookSignature::verify($payload . 'x', $h, self::SECRET, 0, $t));
        // t = 0 is a valid timestamp.
        self::assertTrue(WebhookSignature::verify($payload, self::header($payload, 0, self::SECRET), self::SECRET, 10, 10));
        self::assertFalse(WebhookSignature::verify($payload, self::header($payload, 0, self::SECRET), self::SECRET, 10, 11));
    }

    public function testNowDefaultsToTheCurrentTime(): void
    {
        $payload = '{"id":"pay_now"}';
        $fresh = self::header($payload, time(), self::SECRET);
        self::assertTrue(WebhookSignature::verify($payload, $fresh, self::SECRET));
        self::assertTrue(WebhookSignature::verify($payload, $fresh, self::SECRET, 300, null));
        self::assertFalse(WebhookSignature::verify($payload, self::header($payload, time() - 1000, self::SECRET), self::SECRET));
        self::assertFalse(WebhookSignature::verify($payload, self::header($payload, time() + 1000, self::SECRET), self::SECRET));
        self::assertTrue(WebhookSignature::verify($payload, self::header($payload, time() - 1000, self::SECRET), self::SECRET, 0));
    }

    /** @return array<string, array{string}> */
    public static function malformedHeaders(): array
    {
        $p = '{"id":"pay_bad"}';
        $t = self::T;
        $sig = self::sign($p, $t, self::SECRET);
        $cases = [
            'empty' => '',
            'space' => ' ',
            'garbage' => 'garbage',
            'only commas' => ',,,',
            'only equals' => '=',
            'missing t' => "v1=$sig",
            'missing v1' => "t=$t",
            'empty t' => "t=,v1=$sig",
            'empty v1' => "t=$t,v1=",
            'duplicate t (same)' => "t=$t,t=$t,v1=$sig",
            'duplicate t (different)' => "t=$t,v1=$sig,t=" . ($t + 1),
            'negative t' => "t=-$t,v1=$sig",
            'non-numeric t' => "t=17000a0000,v1=$sig",
            'float t' => "t=$t.0,v1=$sig",
            'hex t' => 't=0x' . dechex($t) . ",v1=$sig",
            't overflowing int64' => "t=99999999999999999999999,v1=$sig",
            'non-hex v1' => "t=$t,v1=" . substr_replace($sig, 'zz', 10, 2),
            'v1 of g' => "t=$t,v1=" . str_repeat('g', 64),
            'v1 one char short' => "t=$t,v1=" . substr($sig, 0, 63),
            'v1 one char long' => "t=$t,v1=$sig" . '0',
            'v1 twice the length' => "t=$t,v1=$sig$sig",
            'v1 as base64' => "t=$t,v1=" . base64_encode(hex2bin($sig)),
            'v1 raw bytes' => "t=$t,v1=" . hex2bin($sig),
            'separator ;' => "t=$t;v1=$sig",
            'no key' => "$t,$sig",
            'NUL after t' => "t=$t\0,v1=$sig",
            'NUL inside t' => "t=17000\00000,v1=$sig",
            'NUL after v1' => "t=$t,v1=$sig\0",
            'NUL inside v1' => "t=$t,v1=" . substr_replace($sig, "\0", 32, 1),
            'only NULs' => str_repeat("\0", 100),
            'invalid UTF-8 around a good header' => "\xff\xfet=$t,v1=$sig",
            'huge: valid header padded past 4 KiB' => "t=$t,v1=$sig," . str_repeat('x=y,', 1100) . 'x=y',
            'huge: 64 KiB of a' => str_repeat('a', 65536),
            'huge: 1 MiB of v1 entries' => "t=$t" . str_repeat(",v1=$sig", 15000),
        ];
        mt_srand(424242);
        for ($i = 0; $i < 40; $i++) {
            $len = mt_rand(1, $i < 30 ? 200 : 6000);
            $bytes = '';
            for ($j = 0; $j < $len; $j++) {
                $bytes .= chr(mt_rand(0, 255));
            }
            $cases["random bytes #$i ($len)"] = $bytes;
        }
        // Random mutations of a valid header: one byte replaced by a random one
        // (a case change of a hex digit, from offset 16 on, would still be valid).
        $good = "t=$t,v1=$sig";
        for ($i = 0; $i < 30; $i++) {
            $pos = mt_rand(0, strlen($good) - 1);
            do {
                $c = chr(mt_rand(0, 255));
            } while ($c === $good[$pos] || ($pos >= 16 && ctype_xdigit($c) && strtolower($c) === strtolower($good[$pos])));
            $cases["mutated byte $pos #$i"] = substr_replace($good, $c, $pos, 1);
        }
        return array_map(static fn (string $h): array => [$h], $cases);
    }

    /** @dataProvider malformedHeaders */
    #[DataProvider('malformedHeaders')]
    public function testMalformedHeadersAreFalseAndNeverThrow(string $header): void
    {
        $p = '{"id":"pay_bad"}';
        foreach ([300, 0] as $tol) {
            try {
                $ok = WebhookSignature::verify($p, $header, self::SECRET, $tol, self::T);
            } catch (\Throwable $e) {
                self::fail('verify() threw ' . get_class($e) . ': ' . $e->getMessage() . ' for header ' . bin2hex(substr($header, 0, 100)));
            }
            self::assertFalse($ok, 'accepted header ' . bin2hex(substr($header, 0, 100)));
        }
    }

    public function testTheValidBaseOfTheMalformedHeadersPasses(): void
    {
        // Proves the cases above fail because of their defect, not because of the payload or secret.
        $p = '{"id":"pay_bad"}';
        $sig = self::sign($p, self::T, self::SECRET);
        $t = self::T;
        self::assertTrue(WebhookSignature::verify($p, "t=$t,v1=$sig", self::SECRET, 300, $t));
        self::assertTrue(WebhookSignature::verify($p, "v1=$sig,t=$t", self::SECRET, 300, $t));
        self::assertTrue(WebhookSignature::verify($p, "t=$t,v1=" . strtoupper($sig), self::SECRET, 300, $t));
        // A header well under 4 KiB with the same padding is fine: only the size fails above.
        $padded = "t=$t,v1=$sig," . str_repeat('x=y,', 500) . 'x=y';
        self::assertLessThan(4096, strlen($padded));
        self::assertTrue(WebhookSignature::verify($p, $padded, self::SECRET, 300, $t));
    }

    /** @return array<string, array{mixed, string}> */
    public static function badSecrets(): array
    {
        $t = self::T;
        $good = self::header('x', $t, self::SECRET);
        $cases = [];
        foreach (['valid header' => $good, 'empty header' => '', 'garbage header' => 'garbage'] as $hn => $h) {
            $cases["empty string, $hn"] = ['', $h];
            $cases["empty list, $hn"] = [[], $h];
            $cases["list with an empty secret, $hn"] = [[''], $h];
            $cases["good then empty secret, $hn"] = [[self::SECRET, ''], $h];
            $cases["good then int, $hn"] = [[self::SECRET, 5], $h];
            $cases["int, $hn"] = [[42], $h];
            $cases["null in list, $hn"] = [[null], $h];
            $cases["nested list, $hn"] = [[[self::SECRET]], $h];
            $cases["object in list, $hn"] = [[new \stdClass()], $h];
            $cases["Stringable in list, $hn"] = [[new class () {
                public function __toString(): string
                {
                    return 'sk_test_0123456789abcdef';
                }
            }], $h];
        }
        return $cases;
    }

    /** @dataProvider badSecrets */
    #[DataProvider('badSecrets')]
    public function testBadSecretsAreInvalidArgument(mixed $secrets, string $header): void
    {
        $this->expectException(InvalidArgumentException::class);
        WebhookSignature::verify('x', $header, $secrets, 300, self::T);
    }

    public function testNegativeToleranceIsInvalidArgument(): void
    {
        $this->expectException(InvalidArgumentException::class);
        WebhookSignature::verify('x', self::header('x', self::T, self::SECRET), self::SECRET, -1, self::T);
    }

    public function testSignatureOfVerifyViaReflection(): void
    {
        $m = new \ReflectionMethod(WebhookSignature::class, 'verify');
        self::assertTrue($m->isStatic());
        self::assertTrue($m->isPublic());
        self::assertSame(5, $m->getNumberOfParameters());
        self::assertSame(3, $m->getNumberOfRequiredParameters());
        $params = $m->getParameters();
        self::assertSame(['payload', 'header', 'secrets', 'toleranceS', 'now'], array_map(static fn ($p) => $p->getName(), $params));
        $secrets = $params[2]->getType();
        self::assertInstanceOf(\ReflectionUnionType::class, $secrets);
        self::assertSame('array|string', (string) $secrets);
        self::assertFalse($secrets->allowsNull());
        self::assertSame('int', (string) $params[3]->getType());
        self::assertSame('?int', (string) $params[4]->getType());
        self::assertSame('bool', (string) $m->getReturnType());
    }
}
