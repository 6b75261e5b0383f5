<?php

declare(strict_types=1);

namespace Monei\Concurrency\Api;

use Magento\Framework\DB\Adapter\AdapterInterface;
use Magento\Sales\Model\Order;

/**
 * What a MONEI payment status means for the Magento order. Replace the
 * default (CaptureOnSucceeded) with a di.xml preference for your own flow.
 */
interface PaymentUpdateProcessorInterface
{
    /**
     * Called once per new (payment, status), with the order lock held, the
     * order loaded after the lock was taken and a database transaction open;
     * the order is saved and the transaction committed afterwards. Throw to
     * roll back: the delivery is answered 5xx and MONEI retries it.
     *
     * @param array<string, mixed> $event the decoded webhook body (MONEI's payment object: id, orderId, status, amount, ...)
     * @return string a short description of what was done, for the response body
     */
    public function process(Order $order, AdapterInterface $connection, array $event): string;
}
