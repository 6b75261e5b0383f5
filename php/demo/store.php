<?php

declare(strict_types=1);

/**
 * The demo's stand-in for Magento's database: orders and invoices.
 *
 * Every worker process opens its own connection after the fork. There is
 * deliberately no unique constraint on invoices: Magento has none either, so
 * whether an order gets invoiced twice depends only on the handler's
 * check-then-act being serialised.
 *
 * SQLite (pdo_sqlite, Debian package php8.2-sqlite3) is used when available,
 * plain files otherwise, so the demo runs on a bare php8.2-cli.
 */
interface DemoStore
{
    /** Creates an empty store with these orders in state "new". */
    public function reset(array $orderIds): void;

    /** Opens the store in the current (worker) process. */
    public function open(): void;

    /** @return array{state: string, fence: int} */
    public function loadOrder(string $orderId): array;

    /**
     * Records the invoice and moves the order to "processing". With a fencing
     * token the write is conditional (`... WHERE fence < :token`) and returns
     * false when a newer lock holder has written already.
     */
    public function invoice(string $orderId, string $paymentId, string $source, int $worker, ?int $token): bool;

    /** @return array<string, int> invoices per order id */
    public function invoiceCounts(): array;

    public function describe(): string;
}

final class SqliteStore implements DemoStore
{
    private ?PDO $db = null;

    public function __construct(private string $path)
    {
    }

    public static function available(): bool
    {
        return extension_loaded('pdo_sqlite');
    }

    public function describe(): string
    {
        return 'SQLite (WAL, busy_timeout 10 s)';
    }

    public function reset(array $orderIds): void
    {
        foreach (['', '-wal', '-shm'] as $suffix) {
            @unlink($this->path . $suffix);
        }
        $this->open();
        $this->db->exec('PRAGMA journal_mode = WAL');
        $this->db->exec('CREATE TABLE sales_order (increment_id TEXT PRIMARY KEY, state TEXT NOT NULL, fence INTEGER NOT NULL DEFAULT 0)');
        $this->db->exec('CREATE TABLE sales_invoice (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,
            payment_id TEXT NOT NULL, source TEXT NOT NULL, worker INTEGER NOT NULL, fence INTEGER)');
        $this->db->beginTransaction();
        $ins = $this->db->prepare("INSERT INTO sales_order (increment_id, state) VALUES (?, 'new')");
        foreach ($orderIds as $id) {
            $ins->execute([$id]);
        }
        $this->db->commit();
        // SQLite connections must not cross a fork: the workers open their own.
        $this->db = null;
    }

    public function open(): void
    {
        $this->db = new PDO('sqlite:' . $this->path, null, null, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_TIMEOUT => 10,
        ]);
        $this->db->exec('PRAGMA busy_timeout = 10000');
        $this->db->exec('PRAGMA synchronous = NORMAL');
    }

    public function loadOrder(string $orderId): array
    {
        $st = $this->db->prepare('SELECT state, fence FROM sales_order WHERE increment_id = ?');
        $st->execute([$orderId]);
        $row = $st->fetch(PDO::FETCH_ASSOC);
        return ['state' => $row['state'], 'fence' => (int) $row['fence']];
    }

    public function invoice(string $orderId, string $paymentId, string $source, int $worker, ?int $token): bool
    {
        // BEGIN IMMEDIATE takes the write lock up front, so the busy timeout
        // applies instead of a deadlock between two read-then-write transactions.
        $this->db->exec('BEGIN IMMEDIATE');
        try {
            if ($token === null) {
                $st = $this->db->prepare("UPDATE sales_order SET state = 'processing' WHERE increment_id = ?");
                $st->execute([$orderId]);
            } else {
                // The fencing check: a holder whose lease ran out cannot
                // overwrite what a later holder (higher token) wrote.
                $st = $this->db->prepare("UPDATE sales_order SET state = 'processing', fence = :t
                    WHERE increment_id = :id AND fence < :t");
                $st->execute(['t' => $token, 'id' => $orderId]);
                if ($st->rowCount() === 0) {
                    $this->db->exec('ROLLBACK');
                    return false;
                }
            }
            $this->db->prepare('INSERT INTO sales_invoice (order_id, payment_id, source, worker, fence) VALUES (?, ?, ?, ?, ?)')
                ->execute([$orderId, $paymentId, $source, $worker, $token]);
            $this->db->exec('COMMIT');
            return true;
        } catch (Throwable $e) {
            $this->db->exec('ROLLBACK');
            throw $e;
        }
    }

    public function invoiceCounts(): array
    {
        $this->open();
        $counts = [];
        foreach ($this->db->query('SELECT order_id, COUNT(*) AS n FROM sales_invoice GROUP BY order_id') as $row) {
            $counts[(string) $row['order_id']] = (int) $row['n'];
        }
        $this->db = null;
        return $counts;
    }
}

/**
 * One state file per order and an append-only invoice log. Reads are plain
 * reads; writes to an order hold flock() on its side file.
 */
final class FileStore implements DemoStore
{
    public function __construct(private string $dir)
    {
    }

    public function describe(): string
    {
        return 'files (pdo_sqlite not loaded)';
    }

    public function reset(array $orderIds): void
    {
        if (is_dir($this->dir)) {
            array_map('unlink', glob($this->dir . '/*') ?: []);
        } else {
            mkdir($this->dir, 0700, true);
        }
        foreach ($orderIds as $id) {
            file_put_contents($this->orderFile($id), "new 0\n");
        }
        touch($this->dir . '/invoices.log');
    }

    public function open(): void
    {
    }

    private function orderFile(string $orderId): string
    {
        return $this->dir . '/order-' . $orderId;
    }

    public function loadOrder(string $orderId): array
    {
        [$state, $fence] = explode(' ', trim((string) file_get_contents($this->orderFile($orderId))));
        return ['state' => $state, 'fence' => (int) $fence];
    }

    public function invoice(string $orderId, string $paymentId, string $source, int $worker, ?int $token): bool
    {
        // flock() on a side file serialises writers; the state file itself is
        // replaced by rename(), so readers never see it half written.
        $fh = fopen($this->orderFile($orderId) . '.lock', 'c');
        flock($fh, LOCK_EX);
        try {
            $fence = $this->loadOrder($orderId)['fence'];
            if ($token !== null && $fence >= $token) {
                return false;
            }
            // One write() of a short line with O_APPEND: lines never interleave.
            file_put_contents(
                $this->dir . '/invoices.log',
                "$orderId $paymentId $source $worker " . ($token ?? '-') . "\n",
                FILE_APPEND
            );
            $tmp = $this->orderFile($orderId) . '.' . getmypid();
            file_put_contents($tmp, 'processing ' . ($token ?? $fence) . "\n");
            rename($tmp, $this->orderFile($orderId));
            return true;
        } finally {
            flock($fh, LOCK_UN);
            fclose($fh);
        }
    }

    public function invoiceCounts(): array
    {
        $counts = [];
        foreach (file($this->dir . '/invoices.log', FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            $id = explode(' ', $line, 2)[0];
            $counts[$id] = ($counts[$id] ?? 0) + 1;
        }
        return $counts;
    }
}
