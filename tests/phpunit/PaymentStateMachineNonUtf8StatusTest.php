<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * Status names are text. Bytes that are not UTF-8 used to be replaced by
 * U+FFFD, so distinct byte strings collapsed into one status (an unknown
 * status was accepted). Now they are refused, in a graph and in advance().
 */
final class PaymentStateMachineNonUtf8StatusTest extends RedisTestCase
{
    public function testAGraphWithANonUtf8StatusIsRefused(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('non-UTF-8');
        new PaymentStateMachine($this->options(['transitions' => ['A' => ["\xff"]]]));
    }

    public function testANonUtf8StatusIsNeverMistakenForAKnownOne(): void
    {
        $m = new PaymentStateMachine($this->options(['transitions' => ['A' => ["\u{FFFD}"]]]));
        self::assertTrue($m->advance('pay_1', 'A'));
        foreach (["\xfe", "\xff", "\xEF\xBF"] as $bytes) {
            try {
                $m->advance('pay_1', $bytes);
                self::fail('a status outside the graph was accepted: ' . bin2hex($bytes));
            } catch (InvalidArgumentException) {
            }
        }
        self::assertSame('A', $m->current('pay_1'));
        self::assertTrue($m->advance('pay_1', "\u{FFFD}"), 'the real U+FFFD status still works');
        self::assertSame("\u{FFFD}", $m->current('pay_1'));
    }
}
