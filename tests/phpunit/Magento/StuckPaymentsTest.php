<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\Console\Command\PaymentsStuckCommand;
use Monei\Concurrency\Cron\CheckStuckPayments;
use Monei\Concurrency\Model\StuckPayments\Finder;
use Monei\Concurrency\Model\StuckPayments\Snapshot;
use Monei\Concurrency\Tests\Magento\Support\App;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Symfony\Component\Console\Input\ArrayInput;
use Symfony\Component\Console\Output\BufferedOutput;

/**
 * bin/magento monei:payments:stuck and the cron job that stores the count,
 * against the shop's real MariaDB tables and the real state machine in Redis;
 * the command runs through the real Symfony Console.
 */
final class StuckPaymentsTest extends MagentoTestCase
{
    /** Orders of every kind: [increment id, state, age in s, payment id, state machine statuses]. */
    private const ORDERS = [
        ['100000001', 'pending_payment', 7200, null, []],                       // stuck: pending_payment 2 h
        ['100000002', 'pending_payment', 300, null, []],                        // too young
        ['100000003', 'new', 3600, 'pay_c', ['PENDING']],                       // stuck: PENDING for 1 h
        ['100000004', 'new', 3600, 'pay_d', ['PENDING', 'SUCCEEDED']],          // has an outcome
        ['100000005', 'processing', 10800, 'pay_e', ['PENDING']],               // not an open state
        ['100000006', 'new', 3600, null, []],                                   // offline payment, no status
        ['100000007', 'payment_review', 2400, 'pay_g', ['AUTHORIZED']],         // stuck: AUTHORIZED 40 min
        ['100000008', 'new', 5400, 'pay_h', ['FAILED']],                        // has an outcome
    ];

    private function seed(App $app): void
    {
        $pdo = $this->shop()->pdo();
        foreach (self::ORDERS as [$order, $state, $age, $payment, $statuses]) {
            $this->shop()->addOrder($order);
            $pdo->prepare('UPDATE sales_order SET state = ?, created_at = NOW() - INTERVAL ? SECOND WHERE increment_id = ?')
                ->execute([$state, $age, $order]);
            // Like MONEI's module: its payment id in the additional information,
            // and last_trans_id overwritten by a capture id (order ...003) or,
            // on an older order (...007), the only place with the id.
            [$info, $lastTransId] = match ($order) {
                '100000003' => [['monei_payment_id' => $payment, 'method_title' => 'Card'], 'cap_' . $payment],
                '100000007' => [null, $payment],
                default => [$payment === null ? null : ['monei_payment_id' => $payment], null],
            };
            $pdo->prepare('UPDATE sales_order_payment p JOIN sales_order o ON o.entity_id = p.parent_id SET p.additional_information = ?, p.last_trans_id = ? WHERE o.increment_id = ?')
                ->execute([$info === null ? null : json_encode($info), $lastTransId, $order]);
            foreach ($statuses as $status) {
                self::assertTrue($app->backend->stateMachine()->advance((string) $payment, $status));
            }
        }
    }

    private function finder(App $app, ?ResourceConnection $resource = null): Finder
    {
        return new Finder($resource ?? $app->resource, $app->backend);
    }

    /** @return array{0: int, 1: string} */
    private function runCommand(Finder $finder, App $app, array $input): array
    {
        $out = new BufferedOutput();
        $code = (new PaymentsStuckCommand($finder, $app->config))->run(new ArrayInput($input), $out);
        return [$code, $out->fetch()];
    }

    public function testFinderFindsPendingPaymentAndUnsettledStatusesOlderThanTheThreshold(): void
    {
        $app = $this->app();
        $this->seed($app);
        $report = $this->finder($app)->find(1800);
        self::assertSame(['100000001', '100000003', '100000007'], array_column($report->payments, 'order'));
        self::assertSame(['pending_payment', 'new', 'payment_review'], array_column($report->payments, 'state'));
        self::assertSame([null, 'pay_c', 'pay_g'], array_column($report->payments, 'payment_id'));
        self::assertSame([null, 'PENDING', 'AUTHORIZED'], array_column($report->payments, 'payment_status'));
        foreach ([7200, 3600, 2400] as $i => $age) {
            self::assertEqualsWithDelta($age, $report->payments[$i]['age_s'], 5);
        }
        self::assertEqualsWithDelta(7200, $report->oldestAgeS(), 5);
        self::assertFalse($report->truncated);

        self::assertSame(['100000001'], array_column($this->finder($app)->find(5400)->payments, 'order'));
        self::assertSame([], $this->finder($app)->find(8000)->payments);
        self::assertSame(0, $this->finder($app)->find(8000)->oldestAgeS());
        self::assertCount(4, $this->finder($app)->find(0)->payments, 'the 5-minute-old pending_payment order too');
    }

    public function testCommandPrintsTheOrderIds(): void
    {
        $app = $this->app();
        $this->seed($app);
        [$code, $out] = $this->runCommand($this->finder($app), $app, ['--older-than' => '30m']);
        self::assertSame(0, $code, $out);
        $lines = explode("\n", trim($out));
        self::assertCount(4, $lines, $out);
        self::assertMatchesRegularExpression('/^100000001 +pending_payment +- +- +2h 0m$/', $lines[0]);
        self::assertMatchesRegularExpression('/^100000003 +new +pay_c +PENDING +(59m 5\d|1h 0m)/', $lines[1]);
        self::assertMatchesRegularExpression('/^100000007 +payment_review +pay_g +AUTHORIZED +(39m 5\d|40m \d)s?/', $lines[2]);
        self::assertMatchesRegularExpression('/^3 stuck payment\(s\) older than 1800 s; oldest 2h 0m\.$/', $lines[3]);

        [$code, $out] = $this->runCommand($this->finder($app), $app, ['--older-than' => '3h']);
        self::assertSame([0, "No stuck payments older than 10800 s.\n"], [$code, $out]);

        [$code, $out] = $this->runCommand($this->finder($app), $app, ['--older-than' => '90m', '--json' => true]);
        self::assertSame(0, $code);
        $doc = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(5400, $doc['older_than_s']);
        self::assertSame(1, $doc['count']);
        self::assertFalse($doc['truncated']);
        self::assertSame('100000001', $doc['payments'][0]['order']);
        self::assertEqualsWithDelta(7200, $doc['oldest_age_s'], 5);
    }

    public function testTheDefaultThresholdComesFromEnvPhp(): void
    {
        $app = $this->app(['stuck_payments' => ['older_than_s' => '5000']]);
        $this->seed($app);
        [$code, $out] = $this->runCommand($this->finder($app), $app, []);
        self::assertSame(0, $code, $out);
        self::assertStringContainsString('1 stuck payment(s) older than 5000 s', $out);
        $app = $this->app();
        [, $out] = $this->runCommand($this->finder($app), $app, []);
        self::assertStringContainsString('3 stuck payment(s) older than 1800 s', $out, 'default 30 minutes');
    }

    public function testBadInputIsRefused(): void
    {
        $app = $this->app();
        $this->seed($app);
        foreach (['abc', '-5', '-5m', '30x', '', '1.5h', '367d', '30 m'] as $bad) {
            [$code, $out] = $this->runCommand($this->finder($app), $app, ['--older-than' => $bad]);
            self::assertSame(2, $code, "--older-than=$bad: $out");
            self::assertStringStartsWith('--older-than must be a duration such as 90, 90s, 30m, 2h or 1d (at most 366d), got "', $out);
            self::assertStringNotContainsString('stuck payment', $out);
        }
        $app = $this->app(['stuck_payments' => ['older_than_s' => 'soon']]);
        [$code, $out] = $this->runCommand($this->finder($app), $app, []);
        self::assertSame([2, "monei_concurrency/stuck_payments/older_than_s must be a number of seconds (0 or more)\n"], [$code, $out]);
        $this->expectException(\InvalidArgumentException::class);
        $this->finder($app)->find(-1);
    }

    public function testDatabaseDownIsAnErrorNeverZeroStuck(): void
    {
        $app = $this->app(withShop: false);
        $down = new ResourceConnection('mysql:unix_socket=' . $this->tmp('no-such.sock') . ';dbname=shop');
        [$code, $out] = $this->runCommand($this->finder($app, $down), $app, ['--older-than' => '30m']);
        self::assertSame(1, $code, $out);
        self::assertStringStartsWith('Could not check for stuck payments: SQLSTATE[HY000] [2002]', $out);
        [$code, $out] = $this->runCommand($this->finder($app, $down), $app, ['--older-than' => '30m', '--json' => true]);
        self::assertSame(1, $code);
        self::assertStringNotContainsString('"count"', $out);
    }

    public function testRedisDownIsAnErrorNeverZeroStuck(): void
    {
        $app = $this->app();
        $this->seed($app);
        $down = $this->app(['redis_url' => 'redis://127.0.0.1:' . \Monei\Concurrency\Tests\Support\RedisServer::freePort(),
            'connect_timeout_ms' => 200, 'io_timeout_ms' => 200]);
        [$code, $out] = $this->runCommand($this->finder($down), $down, ['--older-than' => '30m']);
        self::assertSame(1, $code, $out);
        self::assertStringStartsWith('Could not check for stuck payments: ', $out);
        self::assertStringNotContainsString('No stuck', $out);
    }

    public function testCronStoresTheCountAndKeepsTheLastOneWhenItFails(): void
    {
        $app = $this->app();
        $this->seed($app);
        $snapshot = new Snapshot($app->resource);
        self::assertNull($snapshot->load(), 'nothing before the first run');
        (new CheckStuckPayments($this->finder($app), $snapshot, $app->config))->execute();
        $last = $snapshot->load();
        self::assertSame(3, $last['stuck']);
        self::assertEqualsWithDelta(7200, $last['oldest_age_s'], 5);
        self::assertSame(1800, $last['older_than_s']);
        self::assertFalse($last['truncated']);
        self::assertEqualsWithDelta(time(), $last['checked_at'], 5);

        // The payment of 100000003 succeeds: the next run counts 2 (one row, replaced).
        $app->backend->stateMachine()->advance('pay_c', 'SUCCEEDED');
        (new CheckStuckPayments($this->finder($app), $snapshot, $app->config))->execute();
        self::assertSame(2, $snapshot->load()['stuck']);
        self::assertSame(1, (int) $this->shop()->pdo()->query('SELECT COUNT(*) FROM ' . Snapshot::TABLE)->fetchColumn());

        // Redis down: the job fails and the stored count stays what it was.
        $down = $this->app(['redis_url' => 'redis://127.0.0.1:' . \Monei\Concurrency\Tests\Support\RedisServer::freePort(),
            'connect_timeout_ms' => 200, 'io_timeout_ms' => 200]);
        try {
            (new CheckStuckPayments($this->finder($down), $snapshot, $down->config))->execute();
            self::fail('the job must fail');
        } catch (\Monei\Concurrency\BackendUnavailableException) {
        }
        self::assertSame(2, $snapshot->load()['stuck']);
    }
}
