<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\Request\Http;
use Magento\Framework\Controller\Result\RawFactory;
use Monei\Concurrency\Controller\Metrics\Index;
use Monei\Concurrency\Cron\CheckStuckPayments;
use Monei\Concurrency\Model\Metrics\Endpoint;
use Monei\Concurrency\Model\StuckPayments\Finder;
use Monei\Concurrency\Model\StuckPayments\Snapshot;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;

/**
 * Every metric name used by contrib/prometheus/alerts.yml and
 * contrib/grafana/dashboard.json is one that is really emitted: by the
 * loaded extension's metrics() or by the Magento endpoint (after its cron
 * job ran, so every gauge is there), or Prometheus' own `up`. (Whether
 * each query is valid PromQL is promtool's to say: make test runs it on
 * alerts.yml and, through tests/tools/dashboard-rules.php, on the dashboard.)
 */
final class MetricNamesTest extends MagentoTestCase
{
    private const ROOT = __DIR__ . '/../../..';

    /** @return list<string> sample names of a Prometheus text exposition (from its TYPE lines) */
    private static function names(string $text): array
    {
        preg_match_all('/^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/m', $text, $m, PREG_SET_ORDER);
        $out = [];
        foreach ($m as [, $name, $type]) {
            array_push($out, ...($type === 'histogram' ? ["{$name}_bucket", "{$name}_sum", "{$name}_count"] : [$name]));
        }
        return $out;
    }

    /** @return list<string> */
    private function emitted(): array
    {
        $app = $this->app(['metrics' => ['enabled' => true]]);
        (new CheckStuckPayments(new Finder($app->resource, $app->backend), new Snapshot($app->resource), $app->config))->execute();
        $raw = (new Index(new Http('', [], 'GET', ['REMOTE_ADDR' => '127.0.0.1']), new RawFactory(),
            new Endpoint($app->backend, new Snapshot($app->resource))))->execute();
        self::assertSame(200, $raw->getHttpResponseCode());
        $names = array_merge(self::names(\Monei\Concurrency\metrics()), self::names($raw->getContents()), ['up']);
        self::assertContains('monei_concurrency_acquired_total', $names);
        self::assertContains('monei_concurrency_lock_wait_seconds_bucket', $names);
        self::assertContains('monei_concurrency_stuck_payments', $names);
        self::assertContains('monei_concurrency_locks_held', $names);
        self::assertContains('monei_concurrency_lock_wait_limit_seconds', $names);
        return array_values(array_unique($names));
    }

    /** Metric names in a PromQL expression: identifiers outside string literals, minus functions and keywords. */
    private static function used(string $expr): array
    {
        $expr = (string) preg_replace('/"(?:[^"\\\\]|\\\\.)*"/', '""', $expr);
        $expr = (string) preg_replace('/\[[^\]]*\]/', '', $expr);               // range durations
        $expr = (string) preg_replace('/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/', '', $expr);   // label lists
        $expr = (string) preg_replace('/\{[^}]*\}/', '', $expr);                // matchers
        preg_match_all('/(?<![\w.])[a-zA-Z_:][\w:]*+(?!\s*\()/', $expr, $m);
        $keywords = ['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'e'];
        return array_values(array_filter($m[0], static fn (string $t) => !in_array(strtolower($t), $keywords, true)));
    }

    /** @return array<string, string> where => expression, of alerts.yml (expr: one line or a | block) */
    private static function alertExpressions(): array
    {
        $lines = file(self::ROOT . '/contrib/prometheus/alerts.yml', FILE_IGNORE_NEW_LINES);
        $out = [];
        $alert = '?';
        foreach ($lines as $i => $line) {
            if (preg_match('/^\s*- alert: (\w+)/', $line, $m)) {
                $alert = $m[1];
            } elseif (preg_match('/^(\s*)expr:\s*\|\s*$/', $line, $m)) {
                $block = [];
                for ($j = $i + 1; $j < count($lines) && (trim($lines[$j]) === '' || strlen($lines[$j]) - strlen(ltrim($lines[$j])) > strlen($m[1])); $j++) {
                    $block[] = trim($lines[$j]);
                }
                $out["alerts.yml $alert"] = implode(' ', $block);
            } elseif (preg_match('/^\s*expr:\s*(.+)$/', $line, $m)) {
                $out["alerts.yml $alert"] = trim($m[1], " '");
            }
        }
        return $out;
    }

    /** @return array<string, string> */
    private static function dashboardExpressions(): array
    {
        $dash = json_decode((string) file_get_contents(self::ROOT . '/contrib/grafana/dashboard.json'), true, 512, JSON_THROW_ON_ERROR);
        $out = [];
        foreach ($dash['panels'] as $panel) {
            foreach ($panel['targets'] as $t) {
                $out["dashboard.json \"{$panel['title']}\" {$t['refId']}"] = $t['expr'];
            }
        }
        return $out;
    }

    public function testEveryAlertIsParsed(): void
    {
        $exprs = self::alertExpressions();
        self::assertCount(substr_count((string) file_get_contents(self::ROOT . '/contrib/prometheus/alerts.yml'), '- alert: '), $exprs);
        self::assertCount(8, $exprs);
        self::assertStringContainsString('histogram_quantile(0.99', $exprs['alerts.yml MoneiConcurrencyLockWaitNearLimit']);
        self::assertStringContainsString('monei_concurrency_lock_wait_limit_seconds', $exprs['alerts.yml MoneiConcurrencyLockWaitNearLimit']);
    }

    public function testEveryNameInTheAlertsAndTheDashboardIsEmitted(): void
    {
        $known = $this->emitted();
        $unknown = [];
        $seen = [];
        foreach (self::alertExpressions() + self::dashboardExpressions() as $where => $expr) {
            $names = self::used($expr);
            self::assertNotSame([], $names, "$where uses no metric: $expr");
            foreach ($names as $name) {
                $seen[$name] = true;
                if (!in_array($name, $known, true)) {
                    $unknown[] = "$where: $name";
                }
            }
        }
        self::assertSame([], $unknown);
        self::assertGreaterThan(25, count($seen));
    }

    public function testAMisspelledNameIsCaught(): void
    {
        // The control: the extraction finds names where they hide, and not the functions, labels and strings.
        self::assertSame(['monei_concurrency_aquired_total'], self::used('sum by (job, instance) (rate(monei_concurrency_aquired_total{job="monei_concurrency_x"}[5m])) > 0'));
        self::assertSame(['monei_concurrency_lock_wait_seconds_bucket', 'monei_concurrency_lock_wait_limit_second'],
            self::used('histogram_quantile(0.99, sum by (le) (rate(monei_concurrency_lock_wait_seconds_bucket[5m]))) > on (job) 0.8 * max by (job) (monei_concurrency_lock_wait_limit_second)'));
        self::assertSame(['up'], self::used('up{job=~"monei_concurrency.*"} == 0'));
        self::assertNotContains('monei_concurrency_aquired_total', $this->emitted());
    }
}
