<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Framework\Phrase;
use Magento\Sales\Model\OrderFactory;
use Monei\Concurrency\Lease;
use Monei\Concurrency\LockLostException;

/**
 * Runs order-changing work under the order's lock, on a copy of the order
 * loaded after the lock is held, inside one database transaction that
 * commits only if the database accepts the lock's fencing token.
 */
class OrderProcessor
{
    public function __construct(
        private Backend $backend,
        private OrderFactory $orderFactory,
        private ResourceConnection $resourceConnection,
        private OrderFence $fence,
    ) {
    }

    /**
     * 1. takes the order lock of $incrementId (waits up to lock_wait_ms;
     *    re-entrant if this process already holds it);
     * 2. begins a transaction on the `sales` connection and records the
     *    lock's fencing token with the order (OrderFence: a conditional
     *    write, refused if a newer holder has written);
     * 3. loads the order by increment id, only now, so it never decides on
     *    a copy read before the lock or before the last fenced commit;
     * 4. calls $callback($order, $connection), saves the order and commits.
     *
     * Any exception (the callback's, the save's, a refused fence) rolls the
     * transaction back and reaches the caller unchanged. The lock is
     * released in every case. Call it outside an open transaction: inside
     * one, the order is read from that transaction's older snapshot.
     *
     * @param callable(\Magento\Sales\Model\Order, \Magento\Framework\DB\Adapter\AdapterInterface): mixed $callback
     * @return mixed what $callback returned
     * @throws NoSuchEntityException no order has that increment id (rolled back, the callback did not run)
     * @throws \Monei\Concurrency\LockTimeoutException the lock wait ran out (nothing ran)
     * @throws \Monei\Concurrency\BackendUnavailableException Redis is unreachable
     * @throws LockLostException the lease was lost and a newer holder wrote (rolled back)
     */
    public function processOrderById(string $incrementId, callable $callback): mixed
    {
        $committed = false;
        $result = null;
        try {
            return $this->backend->orderLocks()->executeWithOrderLock(
                $incrementId,
                function (Lease $lease) use ($incrementId, $callback, &$committed, &$result): mixed {
                    $connection = $this->resourceConnection->getConnection('sales');
                    $connection->beginTransaction();
                    try {
                        $this->fence->accept($connection, $incrementId, $lease->token());
                        $order = $this->orderFactory->create()->loadByIncrementId($incrementId);
                        if (!$order->getId()) {
                            throw new NoSuchEntityException(new Phrase('No order with increment id "%1".', [$incrementId]));
                        }
                        $result = $callback($order, $connection);
                        $order->save();
                        $connection->commit();
                        $committed = true;
                    } catch (\Throwable $e) {
                        $connection->rollBack();
                        throw $e;
                    }
                    return $result;
                },
            );
        } catch (LockLostException $e) {
            if ($committed) {
                // The lease ran out after the database accepted our fencing
                // token: the fence row was ours until the commit, so no newer
                // holder wrote in between. The work stands.
                return $result;
            }
            throw $e;
        }
    }
}
