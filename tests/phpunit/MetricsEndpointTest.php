<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests;

use Monei\Concurrency\Tests\Support\BuiltInServer;
use Monei\Concurrency\Tests\Support\RedisTestCase;

/**
 * php/metrics/metrics.php served by a real SAPI (PHP's built-in server, one
 * long-lived process): the answer to GET, HEAD and other methods, the
 * content type Prometheus expects, no secret in the output, and the 503
 * when the extension is not loaded. The nginx allow-list in front of it is
 * tried with real nginx + PHP-FPM in make reliability (tests/reliability/e2e.php).
 */
final class MetricsEndpointTest extends RedisTestCase
{
    private const DOCROOT = __DIR__ . '/../../php/metrics';

    private function server(array $env = [], array $phpArgs = []): BuiltInServer
    {
        return new BuiltInServer(self::DOCROOT, $this->tmp('php-s.log'), $env, $phpArgs);
    }

    public function testGetAnswersThePrometheusText(): void
    {
        [$status, $headers, $body] = $this->server()->request('GET', '/metrics.php');
        self::assertSame(200, $status, $body);
        self::assertSame('text/plain; version=0.0.4; charset=utf-8', $headers['content-type']);
        self::assertSame('no-store', $headers['cache-control']);
        // Every counter of stats() is there, as a counter with a value.
        foreach (array_keys(array_filter(\Monei\Concurrency\stats(), 'is_int')) as $name) {
            self::assertMatchesRegularExpression("/^# TYPE monei_concurrency_{$name}_total counter\nmonei_concurrency_{$name}_total \\d+$/m", $body);
        }
        self::assertStringContainsString('monei_concurrency_lock_wait_seconds_bucket{le="+Inf"} ', $body);
        // Prometheus' text format: every line a comment or "name{labels} value".
        foreach (explode("\n", rtrim($body, "\n")) as $line) {
            self::assertMatchesRegularExpression('/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{le="[^"]+"\})? [0-9.e+-]+)$/', $line);
        }
    }

    public function testHeadAnswersWithoutABody(): void
    {
        [$status, $headers, $body] = $this->server()->request('HEAD', '/metrics.php');
        self::assertSame(200, $status);
        self::assertSame('text/plain; version=0.0.4; charset=utf-8', $headers['content-type']);
        self::assertSame('', $body);
    }

    public function testOtherMethodsAreRefused(): void
    {
        $server = $this->server();
        foreach (['POST', 'PUT', 'DELETE', 'PATCH'] as $method) {
            [$status, $headers, $body] = $server->request($method, '/metrics.php');
            self::assertSame(405, $status, $method);
            self::assertSame('GET, HEAD', $headers['allow'], $method);
            self::assertSame("monei_concurrency metrics: method not allowed, use GET\n", $body, $method);
            self::assertStringNotContainsString('monei_concurrency_', $body);
        }
    }

    public function testNoSecretReachesTheOutput(): void
    {
        $password = 'metrics-s3cret-' . bin2hex(random_bytes(4));
        $server = $this->server([], ['-d', 'monei_concurrency.redis_url=redis://app:' . $password . '@127.0.0.1:1/2',
            '-d', 'monei_concurrency.key_prefix=shop-secret-prefix:']);
        [$status, , $body] = $server->request('GET', '/metrics.php');
        self::assertSame(200, $status, $body);
        self::assertStringNotContainsString($password, $body);
        self::assertStringNotContainsString('redis://', $body);
        self::assertStringNotContainsString('shop-secret-prefix', $body);
    }

    public function testWithoutTheExtensionItAnswers503(): void
    {
        // An empty scan directory: php.ini only, which does not load the extension.
        $server = $this->server(['PHP_INI_SCAN_DIR' => '']);
        [$status, $headers, $body] = $server->request('GET', '/metrics.php');
        self::assertSame(503, $status, $body);
        self::assertSame('text/plain; charset=utf-8', $headers['content-type']);
        self::assertSame("monei_concurrency metrics: the monei_concurrency extension is not loaded in this PHP pool\n", $body);
    }
}
