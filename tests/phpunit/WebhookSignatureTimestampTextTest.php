<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\WebhookSignature;
use PHPUnit\Framework\TestCase;

/**
 * The signature covers "<t>.<payload>" with t exactly as it appears in the
 * header (leading zeros included), not the number t parses to.
 */
final class WebhookSignatureTimestampTextTest extends TestCase
{
    public function testTheTimestampIsSignedAsSent(): void
    {
        $p = '{"id":"pay_1"}';
        $t = '01700000000';
        $asSent = hash_hmac('sha256', "$t.$p", 'sk');
        $canonical = hash_hmac('sha256', "1700000000.$p", 'sk');
        self::assertTrue(WebhookSignature::verify($p, "t=$t,v1=$asSent", 'sk', 0));
        self::assertFalse(WebhookSignature::verify($p, "t=$t,v1=$canonical", 'sk', 0));
    }
}
