<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Doubles;

use Magento\Framework\DB\Adapter\AdapterInterface;

/**
 * The connection of the ResourceConnection double: PDO on an SQLite file,
 * with Magento's nested-transaction counting (only the outermost
 * begin/commit reach the database; an inner rollBack makes the outer commit
 * fail, as Magento's "Asymmetric transaction rollback"). BEGIN IMMEDIATE
 * takes SQLite's write lock at once, so concurrent writers queue on
 * busy_timeout instead of failing on a stale read snapshot.
 */
final class PdoSqliteAdapter implements AdapterInterface
{
    private ?\PDO $pdo = null;
    private int $level = 0;
    private bool $rollbackOnly = false;

    /** How many outermost transactions were committed / rolled back, for assertions. */
    public int $commits = 0;
    public int $rollbacks = 0;

    public function __construct(private string $file)
    {
    }

    public function pdo(): \PDO
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

    public function transactionLevel(): int
    {
        return $this->level;
    }

    public function beginTransaction()
    {
        if ($this->level === 0) {
            $this->pdo()->exec('BEGIN IMMEDIATE');
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
            $this->pdo()->exec('COMMIT');
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
            $this->pdo()->exec('ROLLBACK');
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
}
