<?php

declare(strict_types=1);

namespace Magento\Framework\DB\Adapter;

/**
 * Double of Magento's AdapterInterface: the methods the module (and the
 * order doubles) call, with Magento's signatures; the real interface has
 * many more.
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
}
