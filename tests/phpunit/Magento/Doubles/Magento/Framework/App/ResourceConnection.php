<?php

declare(strict_types=1);

namespace Magento\Framework\App;

use Magento\Framework\DB\Adapter\AdapterInterface;
use Monei\Concurrency\Tests\Magento\Doubles\PdoMysqlAdapter;

/**
 * Double of Magento's ResourceConnection: every resource name ("default",
 * "sales", ...) maps to one connection to the test's MariaDB database, opened
 * on first use (so a forked child that builds its own ResourceConnection gets
 * its own connection). getTableName() adds the table prefix, if any.
 */
class ResourceConnection
{
    public const DEFAULT_CONNECTION = 'default';

    private ?AdapterInterface $connection = null;

    public function __construct(private string $dsn, private string $tablePrefix = '')
    {
    }

    public function getConnection($resourceName = self::DEFAULT_CONNECTION)
    {
        return $this->connection ??= new PdoMysqlAdapter($this->dsn);
    }

    public function getTableName($modelEntity, $connectionName = self::DEFAULT_CONNECTION)
    {
        $name = is_array($modelEntity) ? implode('_', $modelEntity) : (string) $modelEntity;
        return $this->tablePrefix . $name;
    }
}
