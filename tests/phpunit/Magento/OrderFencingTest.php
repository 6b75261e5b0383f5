<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento;

require_once __DIR__ . '/Doubles/autoload.php';

use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Model\Order;
use Monei\Concurrency\LockLostException;
use Monei\Concurrency\Model\OrderFence;
use Monei\Concurrency\Tests\Magento\Support\App;
use Monei\Concurrency\Tests\Magento\Support\MagentoTestCase;
use Monei\Concurrency\Tests\Support\Forker;

/**
 * Fencing enforced by MariaDB: OrderProcessor records the order lock's
 * fencing token (monei_concurrency_order_fence) with a conditional write in
 * its transaction. Real processes: holder A is frozen with SIGSTOP (its
 * watchdog too) past its lease, holder B takes the lock and writes, then A
 * goes on. Each holder increments sales_order.processed_count from the value
 * it read; a lost update would leave the count below the accepted increments.
 */
final class OrderFencingTest extends MagentoTestCase
{
    private const INC = '000000900';
    private const TTL_MS = 600;

    protected function setUp(): void
    {
        parent::setUp();
        if (!function_exists('posix_kill')) {
            self::markTestSkipped('needs posix');
        }
        $this->shop()->addOrder(self::INC, 50.0);
    }

    private static function increment(Order $order): string
    {
        $order->setData('processed_count', (int) $order->getData('processed_count') + 1);
        return 'committed';
    }

    /** Runs one fenced increment in this process; 'committed' or the LockLostException's message. */
    private static function incrementOnce(App $app): string
    {
        try {
            return $app->orderProcessor->processOrderById(self::INC, fn (Order $order) => self::increment($order));
        } catch (LockLostException $e) {
            return 'lost: ' . $e->getMessage();
        }
    }

    /** A ResourceConnection whose first getConnection() (right after the lock is taken) signals and waits. */
    private function pausingResource(string $ready, string $go): ResourceConnection
    {
        return new class ($this->shop()->dsn, $ready, $go) extends ResourceConnection {
            private bool $paused = false;

            public function __construct(string $dsn, private string $ready, private string $go)
            {
                parent::__construct($dsn);
            }

            public function getConnection($resourceName = self::DEFAULT_CONNECTION)
            {
                if (!$this->paused) {
                    $this->paused = true;
                    file_put_contents($this->ready, '1');
                    for ($i = 0; $i < 3000 && !is_file($this->go); $i++) {
                        usleep(10_000);
                    }
                }
                return parent::getConnection($resourceName);
            }
        };
    }

    private function env2(): array
    {
        return $this->env(['lock_ttl_ms' => self::TTL_MS, 'lock_wait_ms' => 20_000]);
    }

    public function testAHolderFrozenPastItsLeaseIsRefusedByTheDatabase(): void
    {
        $ready = $this->tmp('a-ready');
        $go = $this->tmp('a-go');
        $a = Forker::spawn(function () use ($ready, $go): string {
            $app = new App($this->env2(), $this->shop(), null, true, $this->pausingResource($ready, $go));
            return self::incrementOnce($app);
        });
        self::waitForFile($ready);
        // A holds the order lock and has not written yet: freeze it, watchdog included.
        posix_kill($a->pid(), SIGSTOP);
        try {
            $b = Forker::spawn(fn (): string => self::incrementOnce(new App($this->env2(), $this->shop())));
            $bResult = $b->wait(30); // gets the lock once A's lease ran out, writes, commits
        } finally {
            posix_kill($a->pid(), SIGCONT);
        }
        self::signal($go);
        $aResult = $a->wait(30);

        self::assertSame('committed', $bResult);
        self::assertStringStartsWith('lost: the lock of order ' . self::INC . ' was lost: a newer holder', $aResult);
        $count = (int) $this->shop()->order(self::INC)['processed_count'];
        $accepted = 1;
        self::assertSame($accepted, $count, 'A\'s transaction was rolled back');
        $fence = (int) $this->shop()->pdo()->query('SELECT fence FROM ' . OrderFence::TABLE)->fetchColumn();
        self::assertGreaterThan(1, $fence, 'B\'s newer token');
        $this->recordFigures(['holders' => 2, 'accepted' => $accepted, 'final_count' => $count, 'lost_updates' => $accepted - $count, 'refused' => 1]);
    }

    public function testAHolderFrozenAfterItsFencedWriteKeepsTheNextHolderWaiting(): void
    {
        $inside = $this->tmp('a-inside');
        $go = $this->tmp('a-go');
        $a = Forker::spawn(function () use ($inside, $go): string {
            $app = new App($this->env2(), $this->shop());
            return $app->orderProcessor->processOrderById(self::INC, function (Order $order) use ($inside, $go): string {
                self::signal($inside);
                self::waitForFile($go, 30);
                return self::increment($order);
            });
        });
        self::waitForFile($inside);
        posix_kill($a->pid(), SIGSTOP);
        try {
            $b = Forker::spawn(fn (): string => self::incrementOnce(new App($this->env2(), $this->shop())));
            usleep(3 * self::TTL_MS * 1000); // B has the Redis lock by now and waits for A's fence row
            self::assertTrue($b->running(), 'B waits for the database, it does not write past A');
        } finally {
            posix_kill($a->pid(), SIGCONT);
        }
        self::signal($go);
        self::assertSame('committed', $a->wait(30), 'A\'s fenced transaction was never overtaken, so it stands');
        self::assertSame('committed', $b->wait(30));
        self::assertSame(2, (int) $this->shop()->order(self::INC)['processed_count'], 'B read A\'s commit: no lost update');
    }

    public function testARefusedFenceChangesNothing(): void
    {
        $pdo = $this->shop()->pdo();
        $pdo->exec('INSERT INTO ' . OrderFence::TABLE . " (increment_id, fence) VALUES ('" . self::INC . "', 9000000000000000000)");
        $app = $this->app();
        $ran = false;
        try {
            $app->orderProcessor->processOrderById(self::INC, function (Order $order) use (&$ran): void {
                $ran = true;
            });
            self::fail('no exception');
        } catch (LockLostException $e) {
            self::assertStringContainsString('fencing token 9000000000000000000', $e->getMessage());
        }
        self::assertFalse($ran, 'refused before the order was read');
        self::assertSame(1, $app->resource->getConnection()->rollbacks);
        self::assertSame(0, (int) $this->shop()->order(self::INC)['processed_count']);
    }
}
