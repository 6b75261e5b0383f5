<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * A shop database in SQLite (sales_order, sales_order_payment, order_notes)
 * and the gateway's capture log in a second SQLite file. Every process opens
 * its own connections (resource(), gateway()), so forked children never
 * share a PDO handle with the parent.
 */
final class Shop
{
    public readonly string $db;
    public readonly string $gatewayDb;

    public function __construct(string $dir)
    {
        $this->db = $dir . '/shop.sqlite';
        $this->gatewayDb = $dir . '/gateway.sqlite';
        $pdo = $this->pdo();
        $pdo->exec('PRAGMA journal_mode = WAL');
        $pdo->exec('CREATE TABLE IF NOT EXISTS sales_order (entity_id INTEGER PRIMARY KEY AUTOINCREMENT,
            increment_id TEXT NOT NULL UNIQUE, state TEXT, status TEXT,
            base_grand_total REAL NOT NULL, base_total_paid REAL NOT NULL DEFAULT 0)');
        $pdo->exec('CREATE TABLE IF NOT EXISTS sales_order_payment (entity_id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent_id INTEGER NOT NULL, method TEXT, base_amount_paid REAL NOT NULL DEFAULT 0,
            amount_paid REAL NOT NULL DEFAULT 0, last_trans_id TEXT)');
        $pdo->exec('CREATE TABLE IF NOT EXISTS order_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, increment_id TEXT, note TEXT)');
        Gateway::createSchema($this->gatewayDb);
    }

    /** A fresh autocommit connection to the shop database. */
    public function pdo(): \PDO
    {
        $pdo = new \PDO('sqlite:' . $this->db, null, null, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION, \PDO::ATTR_TIMEOUT => 20]);
        $pdo->exec('PRAGMA busy_timeout = 20000');
        return $pdo;
    }

    /** Adds an order with a MONEI payment; returns the payment's entity id. */
    public function addOrder(string $incrementId, float $grandTotal = 100.0, string $status = 'pending'): int
    {
        $pdo = $this->pdo();
        $pdo->prepare('INSERT INTO sales_order (increment_id, state, status, base_grand_total) VALUES (?, ?, ?, ?)')
            ->execute([$incrementId, 'new', $status, $grandTotal]);
        $orderId = (int) $pdo->lastInsertId();
        $pdo->prepare('INSERT INTO sales_order_payment (parent_id, method) VALUES (?, ?)')->execute([$orderId, 'monei_card']);
        return (int) $pdo->lastInsertId();
    }

    public function resource(): ResourceConnection
    {
        return new ResourceConnection($this->db);
    }

    public function gateway(): Gateway
    {
        return new Gateway($this->gatewayDb);
    }

    /** @return array<string, mixed> the sales_order row */
    public function order(string $incrementId): array
    {
        $st = $this->pdo()->prepare('SELECT * FROM sales_order WHERE increment_id = ?');
        $st->execute([$incrementId]);
        return $st->fetch(\PDO::FETCH_ASSOC) ?: [];
    }

    /** @return array<string, mixed> the sales_order_payment row of the order */
    public function payment(string $incrementId): array
    {
        $st = $this->pdo()->prepare('SELECT p.* FROM sales_order_payment p JOIN sales_order o ON o.entity_id = p.parent_id WHERE o.increment_id = ?');
        $st->execute([$incrementId]);
        return $st->fetch(\PDO::FETCH_ASSOC) ?: [];
    }

    /** @return list<string> */
    public function notes(string $incrementId): array
    {
        $st = $this->pdo()->prepare('SELECT note FROM order_notes WHERE increment_id = ? ORDER BY id');
        $st->execute([$incrementId]);
        return $st->fetchAll(\PDO::FETCH_COLUMN);
    }

    public function setStatus(string $incrementId, string $status): void
    {
        $this->pdo()->prepare('UPDATE sales_order SET status = ? WHERE increment_id = ?')->execute([$status, $incrementId]);
    }
}
