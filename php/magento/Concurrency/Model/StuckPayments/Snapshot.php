<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\StuckPayments;

use Magento\Framework\App\ResourceConnection;

/**
 * The last result of the cron job (Cron\CheckStuckPayments), one row in
 * monei_concurrency_stuck_payments (etc/db_schema.xml), read by the metrics
 * endpoint. Only counts and ages are kept, no order data.
 */
class Snapshot
{
    public const TABLE = 'monei_concurrency_stuck_payments';
    private const ROW = 'last';

    public function __construct(private ResourceConnection $resource)
    {
    }

    public function save(Report $report): void
    {
        $this->resource->getConnection('sales')->query(
            'INSERT INTO ' . $this->resource->getTableName(self::TABLE)
            . ' (check_id, stuck_count, oldest_age_s, older_than_s, truncated, checked_at) VALUES (?, ?, ?, ?, ?, NOW())'
            . ' ON DUPLICATE KEY UPDATE stuck_count = VALUES(stuck_count), oldest_age_s = VALUES(oldest_age_s),'
            . ' older_than_s = VALUES(older_than_s), truncated = VALUES(truncated), checked_at = VALUES(checked_at)',
            [self::ROW, $report->count(), $report->oldestAgeS(), $report->olderThanS, (int) $report->truncated],
        );
    }

    /**
     * @return array{stuck: int, oldest_age_s: int, older_than_s: int, truncated: bool, checked_at: int}|null
     *         null when the job has not run yet
     */
    public function load(): ?array
    {
        $row = $this->resource->getConnection('sales')->fetchRow(
            'SELECT stuck_count, oldest_age_s, older_than_s, truncated, UNIX_TIMESTAMP(checked_at) AS checked_at FROM '
            . $this->resource->getTableName(self::TABLE) . ' WHERE check_id = ?',
            [self::ROW],
        );
        if (!is_array($row)) {
            return null;
        }
        return [
            'stuck' => (int) $row['stuck_count'],
            'oldest_age_s' => (int) $row['oldest_age_s'],
            'older_than_s' => (int) $row['older_than_s'],
            'truncated' => (bool) $row['truncated'],
            'checked_at' => (int) $row['checked_at'],
        ];
    }
}
