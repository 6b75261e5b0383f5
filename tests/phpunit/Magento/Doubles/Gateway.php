<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Doubles;

/**
 * The payment gateway of the doubles: every capture (and every capture the
 * gateway notified and Magento registered) is a row in gateway_captures,
 * written at once on a connection of its own (autocommit, outside the shop's
 * transaction), the way a call to the payment provider cannot be rolled back.
 * Counting these rows counts real captures.
 */
final class Gateway
{
    private ?\PDO $pdo = null;

    public function __construct(private string $dsn)
    {
    }

    public static function createSchema(\PDO $pdo): void
    {
        $pdo->exec('CREATE TABLE gateway_captures (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            increment_id VARCHAR(50) NOT NULL, payment_id INT NOT NULL, amount DECIMAL(20,4) NOT NULL,
            kind VARCHAR(16) NOT NULL, pid INT NOT NULL, at DOUBLE NOT NULL) ENGINE=InnoDB');
    }

    private function pdo(): \PDO
    {
        return $this->pdo ??= new \PDO($this->dsn, 'root', '', [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
    }

    /** Records a capture of $amount ($kind: capture, sale, notification); returns the transaction id. */
    public function capture(string $incrementId, int $paymentId, float $amount, string $kind = 'capture'): string
    {
        $st = $this->pdo()->prepare('INSERT INTO gateway_captures (increment_id, payment_id, amount, kind, pid, at) VALUES (?, ?, ?, ?, ?, ?)');
        $st->execute([$incrementId, $paymentId, $amount, $kind, getmypid(), microtime(true)]);
        return 'txn_' . $this->pdo()->lastInsertId();
    }

    /** @return array<string, int> captures per increment id */
    public function capturesPerOrder(): array
    {
        $out = [];
        foreach ($this->pdo()->query('SELECT increment_id, COUNT(*) AS n FROM gateway_captures GROUP BY increment_id') as $row) {
            $out[(string) $row['increment_id']] = (int) $row['n'];
        }
        ksort($out);
        return $out;
    }

    public function count(?string $incrementId = null): int
    {
        if ($incrementId === null) {
            return (int) $this->pdo()->query('SELECT COUNT(*) FROM gateway_captures')->fetchColumn();
        }
        $st = $this->pdo()->prepare('SELECT COUNT(*) FROM gateway_captures WHERE increment_id = ?');
        $st->execute([$incrementId]);
        return (int) $st->fetchColumn();
    }
}
