<?php

declare(strict_types=1);

namespace Monei\Concurrency\Magento;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\Exception\NoSuchEntityException;
use Magento\Framework\Phrase;
use Magento\Sales\Model\OrderFactory;
use Monei\Concurrency\Lease;
use Monei\Concurrency\LockLostException;

/**
 * Runs order-changing work under the order's lock, on a copy of the order
 * loaded after the lock is held, inside one database transaction.
 */
class OrderProcessor
{
    public function __construct(
        private Backend $backend,
        private OrderFactory $orderFactory,
        private ResourceConnection $resourceConnection,
    ) {
    }

    /**
     * 1. takes the order lock of $incrementId (waits up to lock_wait_ms;
     *    re-entrant if this process already holds it);
     * 2. loads the order by increment id (OrderFactory::create()->loadByIncrementId()),
     *    only now, so it never decides on a copy read before the lock;
     * 3. begins a transaction on the `sales` connection and calls
     *    $callback($order, $connection);
     * 4. saves the order, checks the lease is still held and commits.
     *
     * Any exception (the callback's, the save's, a lost lease) rolls the
     * transaction back and reaches the caller unchanged. The lock is released
     * in every case.
     *
     * @param callable(\Magento\Sales\Model\Order, \Magento\Framework\DB\Adapter\AdapterInterface): mixed $callback
     * @return mixed what $callback returned
     * @throws NoSuchEntityException no order has that increment id (nothing ran)
     * @throws \Monei\Concurrency\LockTimeoutException the lock wait ran out (nothing ran)
     * @throws \Monei\Concurrency\BackendUnavailableException Redis is unreachable
     * @throws LockLostException the lease was lost before the commit (rolled back)
     */
    public function processOrderById(string $incrementId, callable $callback): mixed
    {
        return $this->backend->orderLocks()->executeWithOrderLock(
            $incrementId,
            function (Lease $lease) use ($incrementId, $callback): mixed {
                $order = $this->orderFactory->create()->loadByIncrementId($incrementId);
                if (!$order->getId()) {
                    throw new NoSuchEntityException(new Phrase('No order with increment id "%1".', [$incrementId]));
                }
                $connection = $this->resourceConnection->getConnection('sales');
                $connection->beginTransaction();
                try {
                    $result = $callback($order, $connection);
                    $order->save();
                    if (!$lease->isHeld()) {
                        throw new LockLostException(sprintf(
                            'the lock of order %s was lost before the commit; the changes were rolled back',
                            $incrementId,
                        ));
                    }
                    $connection->commit();
                } catch (\Throwable $e) {
                    $connection->rollBack();
                    throw $e;
                }
                return $result;
            },
        );
    }
}
