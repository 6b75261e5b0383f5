<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\Request\Http;
use Magento\Framework\Controller\Result\RawFactory;
use Monei\Concurrency\Controller\Metrics\Index;
use Monei\Concurrency\Cron\CheckStuckPayments;
use Monei\Concurrency\Model\Metrics\AllowList;
use Monei\Concurrency\Model\Metrics\Endpoint;
use Monei\Concurrency\Model\StuckPayments\Finder;
use Monei\Concurrency\Model\StuckPayments\Snapshot;
use Monei\Concurrency\Tests\Magento\Support\App;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\RedisServer;

/**
 * GET /monei_concurrency/metrics (Controller\Metrics\Index and
 * Model\Metrics\Endpoint): off by default, allow-listed, GET only, the
 * extension's metrics plus the Redis-side and stuck-payment gauges, no
 * secrets; against real Redis and the shop's MariaDB.
 */
final class MetricsControllerTest extends MagentoTestCase
{
    /** @return array{0: int, 1: array<string, string>, 2: string} */
    private function scrape(App $app, string $remote = '127.0.0.1', string $method = 'GET'): array
    {
        $controller = new Index(new Http('', [], $method, ['REMOTE_ADDR' => $remote]), new RawFactory(),
            new Endpoint($app->backend, new Snapshot($app->resource)));
        $raw = $controller->execute();
        return [$raw->getHttpResponseCode(), $raw->getHeaders(), $raw->getContents()];
    }

    private static function value(string $body, string $name): ?string
    {
        return preg_match('/^' . preg_quote($name, '/') . ' (\S+)$/m', $body, $m) ? $m[1] : null;
    }

    public function testOffUnlessEnabled(): void
    {
        foreach ([[], ['metrics' => ['enabled' => false]], ['metrics' => ['enabled' => '0']], ['metrics' => ['allow' => ['0.0.0.0/0']]]] as $env) {
            [$code, , $body] = $this->scrape($this->app($env));
            self::assertSame([404, "not found\n"], [$code, $body], json_encode($env));
        }
    }

    public function testEnabledAnswersTheMetricsAndTheRedisAndStuckGauges(): void
    {
        $app = $this->app(['metrics' => ['enabled' => true]]);
        [$code, $headers, $body] = $this->scrape($app);
        self::assertSame(200, $code, $body);
        self::assertSame('text/plain; version=0.0.4; charset=utf-8', $headers['Content-Type']);
        self::assertSame('no-store', $headers['Cache-Control']);
        self::assertStringStartsWith(\Monei\Concurrency\metrics() === '' ? 'x' : '# HELP monei_concurrency_', $body);
        self::assertSame('1', self::value($body, 'monei_concurrency_redis_up'));
        self::assertSame('0', self::value($body, 'monei_concurrency_locks_held'));
        self::assertNull(self::value($body, 'monei_concurrency_stuck_payments'), 'no stuck gauges before the cron job ran');

        // A lock held with one waiter queued behind it, and the cron job's count.
        self::assertTrue($app->backend->orderLocks()->lock('100000042', 0));
        $this->shop()->addOrder('100000043');
        $this->shop()->pdo()->exec("UPDATE sales_order SET state = 'pending_payment', created_at = NOW() - INTERVAL 3600 SECOND");
        (new CheckStuckPayments(new Finder($app->resource, $app->backend), new Snapshot($app->resource), $app->config))->execute();
        [$code, , $body] = $this->scrape($app);
        self::assertSame(200, $code);
        self::assertSame('1', self::value($body, 'monei_concurrency_locks_held'));
        self::assertSame('0', self::value($body, 'monei_concurrency_locks_held_truncated'));
        self::assertSame('0', self::value($body, 'monei_concurrency_lock_waiters'));
        self::assertGreaterThanOrEqual(0.001, (float) self::value($body, 'monei_concurrency_lock_oldest_hold_seconds'));
        self::assertSame('1', self::value($body, 'monei_concurrency_stuck_payments'));
        self::assertEqualsWithDelta(3600, (int) self::value($body, 'monei_concurrency_stuck_payment_oldest_age_seconds'), 5);
        self::assertSame('1800', self::value($body, 'monei_concurrency_stuck_payments_older_than_seconds'));
        self::assertSame('0', self::value($body, 'monei_concurrency_stuck_payments_truncated'));
        self::assertEqualsWithDelta(time(), (int) self::value($body, 'monei_concurrency_stuck_payments_checked_timestamp_seconds'), 5);
        foreach (['redis_up', 'locks_held', 'lock_waiters', 'stuck_payments', 'stuck_payment_oldest_age_seconds'] as $g) {
            self::assertStringContainsString("# TYPE monei_concurrency_$g gauge\n", $body);
        }
        // No order id, lock name, prefix or URL in the output.
        foreach (['100000042', '100000043', $this->prefix, self::redisUrl(), 'redis://'] as $secret) {
            self::assertStringNotContainsString($secret, $body);
        }
        $app->backend->orderLocks()->unlock('100000042');
    }

    public function testNoPasswordReachesTheOutputEvenWhenRedisFails(): void
    {
        $password = 'pw-' . bin2hex(random_bytes(6));
        $app = $this->app(['metrics' => ['enabled' => '1'], 'redis_url' => "redis://app:$password@127.0.0.1:" . RedisServer::freePort(),
            'connect_timeout_ms' => 200, 'io_timeout_ms' => 200]);
        [$code, , $body] = $this->scrape($app);
        self::assertSame(200, $code, 'the extension\'s own metrics are still served');
        self::assertSame('0', self::value($body, 'monei_concurrency_redis_up'));
        self::assertNull(self::value($body, 'monei_concurrency_locks_held'));
        self::assertStringNotContainsString($password, $body);
    }

    public function testAllowList(): void
    {
        $app = $this->app(['metrics' => ['enabled' => true]]);
        self::assertSame(200, $this->scrape($app, '::1')[0]);
        self::assertSame([403, "forbidden\n"], array_values(array_intersect_key($this->scrape($app, '10.1.2.3'), [0 => 1, 2 => 1])));
        self::assertSame(403, $this->scrape($app, '')[0]);

        $app = $this->app(['metrics' => ['enabled' => true, 'allow' => ['10.0.0.0/8', 'fd00::/8']]]);
        self::assertSame(200, $this->scrape($app, '10.1.2.3')[0]);
        self::assertSame(200, $this->scrape($app, 'fd12::1')[0]);
        self::assertSame(403, $this->scrape($app, '127.0.0.1')[0]);
        self::assertSame(403, $this->scrape($app, '11.0.0.1')[0]);
        // A comma-separated string, as an environment variable gives it.
        $app = $this->app(['metrics' => ['enabled' => '1', 'allow' => '192.168.1.0/24, 127.0.0.1']]);
        self::assertSame(200, $this->scrape($app, '192.168.1.77')[0]);
        self::assertSame(403, $this->scrape($app, '192.168.2.1')[0]);

        $app = $this->app(['metrics' => ['enabled' => true, 'allow' => ['10.0.0.0/33']]]);
        [$code, , $body] = $this->scrape($app);
        self::assertSame(500, $code);
        self::assertSame("invalid entry in monei_concurrency/metrics/allow: \"10.0.0.0/33\" (an IP address or CIDR range expected)\n", $body);

        $list = new AllowList(['172.16.0.0/12', '2001:db8::1']);
        self::assertTrue($list->allows('172.31.255.255'));
        self::assertFalse($list->allows('172.32.0.0'));
        self::assertTrue($list->allows('2001:db8::1'));
        self::assertFalse($list->allows('2001:db8::2'));
        self::assertFalse($list->allows('not an address'));
        foreach (['localhost', '10.0.0.0/x', '::1/129', '1.2.3'] as $bad) {
            try {
                new AllowList([$bad]);
                self::fail("$bad accepted");
            } catch (\InvalidArgumentException $e) {
                self::assertStringContainsString('invalid entry in monei_concurrency/metrics/allow', $e->getMessage());
            }
        }
    }

    public function testOnlyGetAndHead(): void
    {
        $app = $this->app(['metrics' => ['enabled' => true]]);
        self::assertSame(200, $this->scrape($app, '127.0.0.1', 'HEAD')[0]);
        foreach (['POST', 'PUT', 'DELETE'] as $method) {
            [$code, $headers, $body] = $this->scrape($app, '127.0.0.1', $method);
            self::assertSame([405, "method not allowed, use GET\n"], [$code, $body], $method);
            self::assertSame('text/plain; charset=utf-8', $headers['Content-Type']);
        }
    }
}
