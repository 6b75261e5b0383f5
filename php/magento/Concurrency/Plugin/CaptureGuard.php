<?php

declare(strict_types=1);

namespace Monei\Concurrency\Magento\Plugin;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\Phrase;
use Magento\Sales\Model\Order\Payment;
use Monei\Concurrency\Magento\Backend;
use Monei\Concurrency\Magento\Exception\AlreadyCapturedException;

/**
 * Around Payment::capture(): holds the order's lock during the capture and
 * refuses to capture a payment that is already captured.
 *
 * "Already captured" is decided AFTER the lock is taken, from the database
 * (not from the Payment object alone, which may have been loaded before
 * another process captured): with
 *   paid  = sales_order_payment.base_amount_paid, read inside the lock (or
 *           the object's own base_amount_paid if higher: captures made on
 *           this object and not saved yet), and
 *   total = sales_order.base_grand_total  (of the payment's order),
 * the capture is refused (AlreadyCapturedException) when
 *   - total > 0 and paid >= total (nothing is left to capture), or
 *   - an invoice is given and its base_grand_total exceeds total - paid
 *     (it would capture more than is left: a duplicate of a capture that
 *     already happened).
 * Partial captures (several invoices that add up to the total) pass. A
 * payment that is not in the database yet (capture while the order is being
 * placed) has nothing captured and passes.
 *
 * The lock is the order lock (the same one as OrderProcessor and the MONEI
 * drop-in), re-entrant: Payment::capture(null) creates an invoice whose
 * register() calls capture($invoice) again, which re-enters the lock. The
 * database only shows a capture once it is committed: callers that capture
 * and save in separate steps should hold the order lock across both
 * (OrderProcessor does), otherwise a second capture that starts between the
 * first one's capture and its commit is not recognised.
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
     * @param \Magento\Sales\Model\Order\Invoice|null $invoice
     * @return Payment
     * @throws AlreadyCapturedException
     * @throws \Monei\Concurrency\LockTimeoutException the order lock was busy for lock_wait_ms
     */
    public function aroundCapture(Payment $subject, callable $proceed, $invoice = null)
    {
        $incrementId = (string) $subject->getOrder()->getIncrementId();
        if ($incrementId === '') {
            return $proceed($invoice);
        }
        return $this->backend->orderLocks()->executeWithOrderLock(
            $incrementId,
            function () use ($subject, $proceed, $invoice, $incrementId) {
                $this->assertNotCaptured($subject, $invoice, $incrementId);
                return $proceed($invoice);
            },
        );
    }

    private function assertNotCaptured(Payment $payment, mixed $invoice, string $incrementId): void
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
            . ' WHERE p.entity_id = ?',
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
                'The payment of order %1 is already captured (%2 of %3 paid).',
                [$incrementId, $paid, $total],
            ));
        }
        if ($invoice !== null && is_object($invoice) && method_exists($invoice, 'getBaseGrandTotal')) {
            $amount = (float) $invoice->getBaseGrandTotal();
            if ($amount - $left > self::EPSILON) {
                throw new AlreadyCapturedException(new Phrase(
                    'The payment of order %1 is already captured: the invoice asks for %2 but only %3 is left to capture.',
                    [$incrementId, $amount, $left],
                ));
            }
        }
    }
}
