<?php

declare(strict_types=1);

namespace Magento\Framework\DB\Adapter;

/**
 * Double of Magento's AdapterInterface: the methods the modules (and the
 * order doubles) call, with Magento's signatures (see signatures.json); the
 * real interface has many more.
 */
interface AdapterInterface
{
    /** @return $this */
    public function beginTransaction();

    /** @return $this */
    public function commit();

    /** @return $this */
    public function rollBack();

    /** @return \PDOStatement the real one returns \Zend_Db_Statement_Interface */
    public function query($sql, $bind = []);

    /** @return array|false */
    public function fetchRow($sql, $bind = [], $fetchMode = null);

    /** @return string|false */
    public function fetchOne($sql, $bind = []);

    /** @return array */
    public function fetchAll($sql, $bind = [], $fetchMode = null);

    /** @return int */
    public function insert($table, array $bind);

    /** @return int */
    public function update($table, array $bind, $where = '');

    /** @return int 0 when no transaction is open */
    public function getTransactionLevel();
}
