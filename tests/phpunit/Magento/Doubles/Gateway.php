<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Doubles;

/**
 * The payment gateway of the Payment double: every capture is a row in its
 * own SQLite file, written at once (autocommit, outside the shop's
 * transaction), the way a call to the payment provider cannot be rolled back.
 * Counting these rows counts real captures.
 */
final class Gateway
{
    private ?\PDO $pdo = null;

    public function __construct(private string $file)
    {
    }

    public static function createSchema(string $file): void
    {
        $pdo = new \PDO('sqlite:' . $file, null, null, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
        $pdo->exec('PRAGMA journal_mode = WAL');
        $pdo->exec('CREATE TABLE IF NOT EXISTS captures (id INTEGER PRIMARY KEY AUTOINCREMENT,
            increment_id TEXT NOT NULL, payment_id INTEGER NOT NULL, amount REAL NOT NULL,
            pid INTEGER NOT NULL, at REAL NOT NULL)');
    }

    private function pdo(): \PDO
    {
        if ($this->pdo === null) {
            $this->pdo = new \PDO('sqlite:' . $this->file, null, null, [
                \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                \PDO::ATTR_TIMEOUT => 20,
            ]);
            $this->pdo->exec('PRAGMA busy_timeout = 20000');
        }
        return $this->pdo;
    }

    /** Captures $amount; returns the transaction id. */
    public function capture(string $incrementId, int $paymentId, float $amount): string
    {
        $st = $this->pdo()->prepare('INSERT INTO captures (increment_id, payment_id, amount, pid, at) VALUES (?, ?, ?, ?, ?)');
        $st->execute([$incrementId, $paymentId, $amount, getmypid(), microtime(true)]);
        return 'txn_' . $this->pdo()->lastInsertId();
    }

    /** @return array<string, int> captures per increment id */
    public function capturesPerOrder(): array
    {
        $out = [];
        foreach ($this->pdo()->query('SELECT increment_id, COUNT(*) AS n FROM captures GROUP BY increment_id') as $row) {
            $out[(string) $row['increment_id']] = (int) $row['n'];
        }
        ksort($out);
        return $out;
    }

    public function count(?string $incrementId = null): int
    {
        if ($incrementId === null) {
            return (int) $this->pdo()->query('SELECT COUNT(*) FROM captures')->fetchColumn();
        }
        $st = $this->pdo()->prepare('SELECT COUNT(*) FROM captures WHERE increment_id = ?');
        $st->execute([$incrementId]);
        return (int) $st->fetchColumn();
    }
}
