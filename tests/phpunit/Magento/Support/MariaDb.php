<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Support;

/**
 * The test's MariaDB server, started by tests/tools/with-mariadb.sh (make
 * test) on a unix socket; MARIADB_SOCKET names it. Every shop gets a database
 * of its own, dropped after the test.
 */
final class MariaDb
{
    public static function socket(): string
    {
        $socket = getenv('MARIADB_SOCKET');
        if ($socket === false || $socket === '') {
            throw new \RuntimeException('MARIADB_SOCKET is not set: run the suite through `make test` (tests/tools/with-mariadb.sh starts the server)');
        }
        return $socket;
    }

    public static function dsn(?string $database = null): string
    {
        return 'mysql:unix_socket=' . self::socket() . ($database === null ? '' : ';dbname=' . $database) . ';charset=utf8mb4';
    }

    /** An autocommit connection, to the server or to one database. */
    public static function pdo(?string $database = null): \PDO
    {
        return new \PDO(self::dsn($database), 'root', '', [
            \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
            \PDO::ATTR_DEFAULT_FETCH_MODE => \PDO::FETCH_ASSOC,
        ]);
    }

    public static function createDatabase(): string
    {
        $name = 'shop_' . bin2hex(random_bytes(6));
        self::pdo()->exec("CREATE DATABASE `$name` CHARACTER SET utf8mb4");
        return $name;
    }

    public static function dropDatabase(string $name): void
    {
        self::pdo()->exec("DROP DATABASE IF EXISTS `$name`");
    }

    /**
     * CREATE TABLE statements for the tables of a module's etc/db_schema.xml
     * (the column types the modules use), so the tests run on the declared schema.
     *
     * @return list<string>
     */
    public static function tablesOf(string $dbSchemaXml): array
    {
        $xml = new \DOMDocument();
        $xml->load($dbSchemaXml);
        $xsi = 'http://www.w3.org/2001/XMLSchema-instance';
        $out = [];
        foreach ($xml->getElementsByTagName('table') as $table) {
            $lines = [];
            foreach ($table->childNodes as $node) {
                if (!$node instanceof \DOMElement) {
                    continue;
                }
                $type = $node->getAttributeNS($xsi, 'type');
                if ($node->tagName === 'column') {
                    $lines[] = self::column($node, $type);
                } elseif ($node->tagName === 'constraint' && $type === 'primary') {
                    $cols = [];
                    foreach ($node->getElementsByTagName('column') as $c) {
                        $cols[] = '`' . $c->getAttribute('name') . '`';
                    }
                    $lines[] = 'PRIMARY KEY (' . implode(', ', $cols) . ')';
                }
            }
            $out[] = 'CREATE TABLE `' . $table->getAttribute('name') . "` (\n  " . implode(",\n  ", $lines) . "\n) ENGINE=" . ($table->getAttribute('engine') ?: 'innodb');
        }
        return $out;
    }

    private static function column(\DOMElement $c, string $type): string
    {
        $sql = match ($type) {
            'varchar' => 'VARCHAR(' . ($c->getAttribute('length') ?: '255') . ')',
            'int' => 'INT',
            'bigint' => 'BIGINT',
            'decimal' => 'DECIMAL(' . $c->getAttribute('precision') . ',' . $c->getAttribute('scale') . ')',
            'timestamp' => 'TIMESTAMP',
            'text' => 'TEXT',
            default => throw new \LogicException("column type $type is not translated by the test tooling"),
        };
        if ($c->getAttribute('unsigned') === 'true') {
            $sql .= ' UNSIGNED';
        }
        $sql .= $c->getAttribute('nullable') === 'false' ? ' NOT NULL' : ' NULL';
        if ($c->getAttribute('identity') === 'true') {
            $sql .= ' AUTO_INCREMENT';
        }
        if ($c->hasAttribute('default')) {
            $d = $c->getAttribute('default');
            $sql .= ' DEFAULT ' . ($d === 'CURRENT_TIMESTAMP' || is_numeric($d) ? $d : "'" . addslashes($d) . "'");
        }
        if ($c->getAttribute('on_update') === 'true') {
            $sql .= ' ON UPDATE CURRENT_TIMESTAMP';
        }
        return '`' . $c->getAttribute('name') . '` ' . $sql;
    }
}
