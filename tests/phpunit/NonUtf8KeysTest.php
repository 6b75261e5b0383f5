<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\InvalidArgumentException;
use Monei\Concurrency\OrderLockManager;
use Monei\Concurrency\PaymentStateMachine;
use Monei\Concurrency\ProcessingLock;
use Monei\Concurrency\Tests\Support\RedisTestCase;
use Monei\Concurrency\WebhookSignature;

/**
 * Array keys that are not UTF-8 used to make ext-php-rs panic (a plain \Error
 * and a backtrace on stderr). They are refused like any other bad input.
 */
final class NonUtf8KeysTest extends RedisTestCase
{
    public function testOptionKeysThatAreNotUtf8AreInvalidArguments(): void
    {
        foreach ([ProcessingLock::class, OrderLockManager::class, IdempotencyStore::class, PaymentStateMachine::class] as $class) {
            try {
                new $class($this->options(["\xff" => 1]));
                self::fail("$class accepted a non-UTF-8 option name");
            } catch (InvalidArgumentException $e) {
                self::assertStringContainsString('unknown option', $e->getMessage());
            }
        }
    }

    public function testAStatusKeyThatIsNotUtf8IsRefusedNotMangled(): void
    {
        $this->expectException(InvalidArgumentException::class);
        new PaymentStateMachine($this->options(['transitions' => ["\xfe" => ['A']]]));
    }

    public function testSecretListKeysDoNotMatter(): void
    {
        $t = 1700000000;
        $sig = hash_hmac('sha256', "$t.body", 'k');
        self::assertTrue(WebhookSignature::verify('body', "t=$t,v1=$sig", ["\xff" => 'k'], 0));
        self::assertFalse(WebhookSignature::verify('body', "t=$t,v1=$sig", ["\xff" => 'other'], 0));
    }
}
