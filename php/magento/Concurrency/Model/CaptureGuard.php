<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\Phrase;
use Monei\Concurrency\Exception\AlreadyCapturedException;
use Monei\Concurrency\LockTimeoutException;

/**
 * The double-capture guard behind the plugins on every capture path
 * (Order\Payment\Processor::capture() and ::registerCaptureNotification(),
 * Operations\SaleOperation::execute()): the capture runs under the order's
 * lock, and only if the payment still has that much left to capture.
 *
 * "Left to capture" is decided AFTER the lock is taken, from the database,
 * with a locking read (SELECT ... FOR UPDATE): at InnoDB's REPEATABLE READ a
 * plain SELECT inside a transaction the caller opened earlier reads that
 * transaction's snapshot and misses a capture another process committed
 * since; a locking read sees the latest committed row. With
 *   paid  = sales_order_payment.base_amount_paid (or the object's own value
 *           if higher: captures on this object not saved yet), and
 *   total = sales_order.base_grand_total,
 * a capture is refused (AlreadyCapturedException) when total > 0 and
 * paid >= total, or when it asks for more than total - paid. The message
 * says "has already been captured", the wording MONEI's InvoiceService
 * takes as "nothing to do" rather than as a failure to retry. Partial
 * captures that add up to the total pass; a payment not saved yet (a
 * capture while the order is placed) has nothing captured and passes.
 *
 * The lock is the order lock (the same as OrderProcessor's and the MONEI
 * path's), re-entrant. The database shows a capture once it is committed:
 * inside OrderProcessor the lock is held until its commit anyway; a capture
 * made outside any hold of this process (Magento's admin captures, then
 * saves) keeps the lock until the request ends, so the save commits before
 * another process can take the lock and judge the payment.
 */
class CaptureGuard
{
    private const EPSILON = 0.0001;

    public function __construct(
        private Backend $backend,
        private ResourceConnection $resourceConnection,
    ) {
    }

    /**
     * Runs $capture() under the order lock of $payment's order, unless the
     * payment is already captured or $amount is more than is left.
     *
     * @param \Magento\Sales\Model\Order\Payment $payment
     * @param float|null $amount what this capture takes (null: whatever is left)
     * @throws AlreadyCapturedException
     * @throws \Monei\Concurrency\LockTimeoutException the order lock was busy for lock_wait_ms
     */
    public function run($payment, ?float $amount, callable $capture): mixed
    {
        $incrementId = (string) $payment->getOrder()->getIncrementId();
        if ($incrementId === '') {
            return $capture();
        }
        $locks = $this->backend->orderLocks();
        if ($this->heldByThisProcess($incrementId)) {
            // Inside OrderProcessor (or another hold of ours): it keeps the
            // lock until its commit; this level is released when done.
            return $locks->executeWithOrderLock(
                $incrementId,
                function () use ($payment, $amount, $capture, $incrementId): mixed {
                    $this->assertNotCaptured($payment, $amount, $incrementId);
                    return $capture();
                },
            );
        }
        if (!$locks->lock($incrementId)) {
            throw new LockTimeoutException(sprintf('the order lock of %s stayed busy; nothing was captured', $incrementId));
        }
        try {
            $this->assertNotCaptured($payment, $amount, $incrementId);
            $result = $capture();
        } catch (\Throwable $e) {
            $locks->unlock($incrementId);
            throw $e;
        }
        // Captured outside any hold of the order lock (e.g. the admin's
        // invoice form, which captures first and saves afterwards): the
        // capture reaches the database only with the caller's later save.
        // The lock stays held until this request ends (the extension
        // releases it then), so no other process judges the payment before
        // that commit.
        return $result;
    }

    private function heldByThisProcess(string $incrementId): bool
    {
        $holder = $this->backend->orderLocks()->inspect($incrementId);
        return $holder !== null && (int) $holder['pid'] === getmypid() && (string) $holder['host'] === (string) gethostname();
    }

    private function assertNotCaptured($payment, ?float $amount, string $incrementId): void
    {
        $paymentId = $payment->getId();
        if (!$paymentId) {
            return;
        }
        $connection = $this->resourceConnection->getConnection('sales');
        $row = $connection->fetchRow(
            'SELECT p.base_amount_paid AS paid, o.base_grand_total AS total'
            . ' FROM ' . $this->resourceConnection->getTableName('sales_order_payment') . ' p'
            . ' INNER JOIN ' . $this->resourceConnection->getTableName('sales_order') . ' o ON o.entity_id = p.parent_id'
            . ' WHERE p.entity_id = ? FOR UPDATE',
            [(int) $paymentId],
        );
        if (!is_array($row)) {
            return;
        }
        $paid = max((float) ($row['paid'] ?? 0), (float) $payment->getBaseAmountPaid());
        $total = (float) ($row['total'] ?? 0);
        $left = $total - $paid;
        if ($total > 0 && $left < self::EPSILON) {
            throw new AlreadyCapturedException(new Phrase(
                'The payment of order %1 has already been captured (%2 of %3 paid).',
                [$incrementId, $paid, $total],
            ));
        }
        if ($amount !== null && $amount - $left > self::EPSILON) {
            throw new AlreadyCapturedException(new Phrase(
                'The payment of order %1 has already been captured: the capture asks for %2 but only %3 is left.',
                [$incrementId, $amount, $left],
            ));
        }
    }
}
