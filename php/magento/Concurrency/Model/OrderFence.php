<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\DB\Adapter\AdapterInterface;
use Monei\Concurrency\LockLostException;

/**
 * The order lock's fencing token, recorded in the database
 * (monei_concurrency_order_fence, etc/db_schema.xml) so the database itself
 * refuses the work of a holder whose lease ran out while it was paused.
 *
 * accept() is a conditional write in the caller's transaction:
 *     UPDATE monei_concurrency_order_fence SET fence = :token
 *      WHERE increment_id = :order AND fence < :token
 * It fails when a holder with a newer token already wrote; and because the
 * row stays locked until the transaction ends, a holder with a newer token
 * waits for this transaction to commit or roll back before it can write. Done
 * before the order is read, so what the holder reads is never older than the
 * last fenced commit.
 *
 * Tokens grow per order and follow Redis' clock (microseconds), so they keep
 * rising after Redis lost its data too; only a Redis clock set back by more
 * than the time since an order's last fenced write could make that order's
 * writes fail (empty the table then: TRUNCATE monei_concurrency_order_fence).
 */
class OrderFence
{
    public const TABLE = 'monei_concurrency_order_fence';

    public function __construct(private ResourceConnection $resourceConnection)
    {
    }

    /**
     * @throws LockLostException a newer holder of the order lock has written (roll back)
     */
    public function accept(AdapterInterface $connection, string $incrementId, int $token): void
    {
        $table = $this->resourceConnection->getTableName(self::TABLE);
        $connection->query("INSERT IGNORE INTO $table (increment_id, fence) VALUES (?, 0)", [$incrementId]);
        $written = $connection->update(
            $table,
            ['fence' => $token],
            ['increment_id = ?' => $incrementId, 'fence < ?' => $token],
        );
        if ((int) $written === 1) {
            return;
        }
        // Nothing changed: either this lease recorded its token already (a
        // re-entered OrderProcessor) or a newer holder has written.
        $fence = (int) $connection->fetchOne("SELECT fence FROM $table WHERE increment_id = ? FOR UPDATE", [$incrementId]);
        if ($fence === $token) {
            return;
        }
        throw new LockLostException(sprintf(
            'the lock of order %s was lost: a newer holder (fencing token %d, ours %d) has written; the changes were rolled back',
            $incrementId,
            $fence,
            $token,
        ));
    }
}
