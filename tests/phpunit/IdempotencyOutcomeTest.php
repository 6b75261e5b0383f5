<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\BackendUnavailableException;
use Monei\Concurrency\ConcurrencyException;
use Monei\Concurrency\IdempotencyClaimLostException;
use Monei\Concurrency\IdempotencyResultUnknownException;
use Monei\Concurrency\IdempotencyStore;
use Monei\Concurrency\Tests\Support\RedisServer;
use Monei\Concurrency\Tests\Support\RedisTestCase;

use function Monei\Concurrency\stats;

/**
 * once() returns normally only when the callback ran under a claim that was
 * still this caller's when its result was stored. A claim lost while the
 * callback ran, and a result that could not be recorded, are exceptions of
 * their own: neither says "nothing ran" (BackendUnavailableException).
 */
final class IdempotencyOutcomeTest extends RedisTestCase
{
    public function testAClaimLostWhileTheCallbackRanIsClaimLostAndKeepsTheOtherResult(): void
    {
        $options = $this->options(['in_progress_ttl_ms' => 100]);
        $first = new IdempotencyStore($options);
        $second = new IdempotencyStore($options);
        $runs = [];
        $lostBefore = stats()['idempotency_claims_lost'];
        try {
            $first->once('k', static function () use ($second, &$runs): string {
                $runs[] = 'first';
                // This caller stalls past its claim; another one takes the key over.
                usleep(250_000);
                $runs[] = $second->once('k', static function () use (&$runs): string {
                    $runs[] = 'second';
                    return 'result of second';
                });
                return 'result of first';
            });
            self::fail('once() returned normally after its claim was taken over');
        } catch (IdempotencyClaimLostException $e) {
            self::assertInstanceOf(ConcurrencyException::class, $e);
            self::assertNotInstanceOf(BackendUnavailableException::class, $e);
            self::assertStringContainsString('k', $e->getMessage());
        }
        self::assertSame(['first', 'second', 'result of second'], $runs);
        self::assertSame($lostBefore + 1, stats()['idempotency_claims_lost']);
        // The key's result is the one whose claim held, not the late one.
        self::assertSame('result of second', $first->once('k', static fn (): string => 'third'));
    }

    public function testAClaimThatExpiredWithNobodyElseIsStillLost(): void
    {
        $store = new IdempotencyStore($this->options(['in_progress_ttl_ms' => 50]));
        try {
            $store->once('k', static function (): string {
                usleep(150_000);
                return 'late';
            });
            self::fail('once() stored a result without a claim');
        } catch (IdempotencyClaimLostException) {
        }
        self::assertNull($store->status('k'), 'the late result was not stored');
    }

    public function testRedisFailingAfterTheCallbackRanIsResultUnknownNotBackendUnavailable(): void
    {
        $server = new RedisServer();
        $server->start();
        $store = new IdempotencyStore(['redis_url' => $server->url(), 'io_timeout_ms' => 200, 'connect_timeout_ms' => 200]);
        $ran = false;
        try {
            $store->once('k', static function () use ($server, &$ran): string {
                $ran = true;
                $server->stop();
                return 'done';
            });
            self::fail('once() reported success it could not vouch for');
        } catch (IdempotencyResultUnknownException $e) {
            self::assertNotInstanceOf(BackendUnavailableException::class, $e);
            self::assertStringContainsString('ran', $e->getMessage());
        }
        self::assertTrue($ran);
        // Before the callback, the same outage is "nothing ran".
        $this->expectException(BackendUnavailableException::class);
        $store->once('k2', static fn (): string => 'never');
    }
}
