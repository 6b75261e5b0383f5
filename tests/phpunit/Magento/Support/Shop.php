<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\Tests\Magento\Doubles\Gateway;

/**
 * A shop database of its own on the test's MariaDB: the sales tables the
 * doubles use (a subset of Magento's columns), the module's own tables from
 * its etc/db_schema.xml, and the gateway's capture log. Every process opens
 * its own connections (resource(), gateway(), pdo()), so forked children
 * never share a connection with the parent.
 */
final class Shop
{
    public readonly string $database;
    public readonly string $dsn;

    public function __construct()
    {
        $this->database = MariaDb::createDatabase();
        $this->dsn = MariaDb::dsn($this->database);
        $pdo = $this->pdo();
        $pdo->exec('CREATE TABLE sales_order (entity_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            increment_id VARCHAR(50) NOT NULL UNIQUE, state VARCHAR(32), status VARCHAR(32),
            base_grand_total DECIMAL(20,4) NOT NULL, base_total_paid DECIMAL(20,4) NULL,
            total_paid DECIMAL(20,4) NULL, base_total_invoiced DECIMAL(20,4) NULL,
            processed_count INT NOT NULL DEFAULT 0,
            created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB');
        $pdo->exec('CREATE TABLE sales_order_payment (entity_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            parent_id INT UNSIGNED NOT NULL, method VARCHAR(128), base_amount_paid DECIMAL(20,4) NULL,
            amount_paid DECIMAL(20,4) NULL, base_amount_paid_online DECIMAL(20,4) NULL,
            base_amount_authorized DECIMAL(20,4) NULL, last_trans_id VARCHAR(255) NULL,
            additional_information TEXT NULL) ENGINE=InnoDB');
        $pdo->exec('CREATE TABLE sales_invoice (entity_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            order_id INT UNSIGNED NOT NULL, state SMALLINT NOT NULL, base_grand_total DECIMAL(20,4) NOT NULL,
            transaction_id VARCHAR(255) NULL) ENGINE=InnoDB');
        $pdo->exec('CREATE TABLE order_notes (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            increment_id VARCHAR(50), note VARCHAR(255)) ENGINE=InnoDB');
        foreach (MariaDb::tablesOf(__DIR__ . '/../../../../php/magento/Concurrency/etc/db_schema.xml') as $sql) {
            $pdo->exec($sql);
        }
        Gateway::createSchema($pdo);
        \Monei\MoneiPayment\Model\PaymentProcessor::createSchema($pdo);
    }

    public function drop(): void
    {
        MariaDb::dropDatabase($this->database);
    }

    /** A fresh autocommit connection to the shop database. */
    public function pdo(): \PDO
    {
        return MariaDb::pdo($this->database);
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
        return new ResourceConnection($this->dsn);
    }

    public function gateway(): Gateway
    {
        return new Gateway($this->dsn);
    }

    /** @return array<string, mixed> the sales_order row */
    public function order(string $incrementId): array
    {
        $st = $this->pdo()->prepare('SELECT * FROM sales_order WHERE increment_id = ?');
        $st->execute([$incrementId]);
        return $st->fetch() ?: [];
    }

    /** @return array<string, mixed> the sales_order_payment row of the order */
    public function payment(string $incrementId): array
    {
        $st = $this->pdo()->prepare('SELECT p.* FROM sales_order_payment p JOIN sales_order o ON o.entity_id = p.parent_id WHERE o.increment_id = ?');
        $st->execute([$incrementId]);
        return $st->fetch() ?: [];
    }

    /** How many invoices the order has. */
    public function invoices(string $incrementId): int
    {
        $st = $this->pdo()->prepare('SELECT COUNT(*) FROM sales_invoice i JOIN sales_order o ON o.entity_id = i.order_id WHERE o.increment_id = ?');
        $st->execute([$incrementId]);
        return (int) $st->fetchColumn();
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
