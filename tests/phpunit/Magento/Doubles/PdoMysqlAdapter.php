<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Doubles;

use Magento\Framework\DB\Adapter\AdapterInterface;

/**
 * The connection of the ResourceConnection double: PDO MySQL on the test's
 * MariaDB (InnoDB, REPEATABLE READ), with Magento's nested-transaction
 * counting: only the outermost begin/commit reach the server, and an inner
 * rollBack makes the outer commit fail ("Asymmetric transaction rollback").
 * Only the methods of AdapterInterface the modules and doubles use.
 */
final class PdoMysqlAdapter implements AdapterInterface
{
    private ?\PDO $pdo = null;
    private int $level = 0;
    private bool $rollbackOnly = false;

    /** How many outermost transactions were committed / rolled back, for assertions. */
    public int $commits = 0;
    public int $rollbacks = 0;

    public function __construct(private string $dsn)
    {
    }

    public function pdo(): \PDO
    {
        if ($this->pdo === null) {
            $this->pdo = new \PDO($this->dsn, 'root', '', [
                \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                \PDO::ATTR_DEFAULT_FETCH_MODE => \PDO::FETCH_ASSOC,
                \PDO::ATTR_TIMEOUT => 5,
            ]);
            // Magento's own session settings that matter here; InnoDB waits
            // for row locks at most this long before a statement fails.
            $this->pdo->exec('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
            $this->pdo->exec("SET SESSION innodb_lock_wait_timeout = 20, SESSION sql_mode = 'STRICT_ALL_TABLES'");
        }
        return $this->pdo;
    }

    public function getTransactionLevel()
    {
        return $this->level;
    }

    public function beginTransaction()
    {
        if ($this->level === 0) {
            $this->pdo()->beginTransaction();
            $this->rollbackOnly = false;
        }
        $this->level++;
        return $this;
    }

    public function commit()
    {
        if ($this->level === 0) {
            throw new \LogicException('commit() without a transaction');
        }
        if ($this->level === 1) {
            if ($this->rollbackOnly) {
                throw new \LogicException('Asymmetric transaction rollback.');
            }
            $this->pdo()->commit();
            $this->commits++;
        }
        $this->level--;
        return $this;
    }

    public function rollBack()
    {
        if ($this->level === 0) {
            throw new \LogicException('rollBack() without a transaction');
        }
        if ($this->level === 1) {
            $this->pdo()->rollBack();
            $this->rollbacks++;
        } else {
            $this->rollbackOnly = true;
        }
        $this->level--;
        return $this;
    }

    public function query($sql, $bind = [])
    {
        $st = $this->pdo()->prepare((string) $sql);
        $st->execute(array_values((array) $bind));
        return $st;
    }

    public function fetchRow($sql, $bind = [], $fetchMode = null)
    {
        return $this->query($sql, $bind)->fetch(\PDO::FETCH_ASSOC);
    }

    public function fetchOne($sql, $bind = [])
    {
        return $this->query($sql, $bind)->fetchColumn();
    }

    public function fetchAll($sql, $bind = [], $fetchMode = null)
    {
        return $this->query($sql, $bind)->fetchAll(\PDO::FETCH_ASSOC);
    }

    /** @return int the number of rows inserted */
    public function insert($table, array $bind)
    {
        $columns = array_keys($bind);
        return $this->query(
            'INSERT INTO ' . $table . ' (' . implode(', ', $columns) . ') VALUES (' . implode(', ', array_fill(0, count($columns), '?')) . ')',
            array_values($bind),
        )->rowCount();
    }

    /**
     * @param string|array<string|int, mixed> $where "col = ?" => value pairs (ANDed), or plain conditions
     * @return int the number of rows changed
     */
    public function update($table, array $bind, $where = '')
    {
        $params = array_values($bind);
        $conditions = [];
        foreach ((array) $where as $condition => $value) {
            if (is_int($condition)) {
                $conditions[] = (string) $value;
            } else {
                $conditions[] = $condition;
                $params[] = $value;
            }
        }
        $sql = 'UPDATE ' . $table . ' SET ' . implode(', ', array_map(static fn ($c) => "$c = ?", array_keys($bind)))
            . ($conditions === [] ? '' : ' WHERE (' . implode(') AND (', $conditions) . ')');
        return $this->query($sql, $params)->rowCount();
    }

    public function lastInsertId($tableName = null, $primaryKey = null)
    {
        return $this->pdo()->lastInsertId();
    }
}
