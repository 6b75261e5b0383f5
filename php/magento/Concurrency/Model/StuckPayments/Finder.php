<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\StuckPayments;

use Magento\Framework\App\ResourceConnection;
use Monei\Concurrency\Model\Backend;

/**
 * Orders whose payment has had no outcome for longer than a threshold:
 *
 * - every order in state pending_payment created before the threshold;
 * - every order in state new or payment_review created before the threshold
 *   whose payment has a status in the extension's PaymentStateMachine (the
 *   status the webhook endpoint last applied) that is not an outcome yet:
 *   PENDING or AUTHORIZED. The payment is looked up by the MONEI payment id
 *   MONEI's module keeps in the payment's additional information
 *   (`monei_payment_id`, the id its webhooks carry); only when that is
 *   missing by sales_order_payment.last_trans_id (which MONEI's module
 *   overwrites with capture and refund ids, so it is the fallback only).
 *
 * Ages are computed by the database (UNIX_TIMESTAMP() - created_at), so the
 * clock of the PHP host does not matter. At most MAX_ORDERS candidate orders
 * are looked at (one state machine read each); beyond that the report says
 * it is truncated. A database or Redis failure is thrown, never reported as
 * "nothing stuck".
 */
class Finder
{
    /** Magento's Order::STATE_PENDING_PAYMENT. */
    public const PENDING_PAYMENT = 'pending_payment';
    /** Order states in which a payment may still be waited for. */
    public const OPEN_STATES = ['new', self::PENDING_PAYMENT, 'payment_review'];
    /** State machine statuses that are not an outcome of the payment yet. */
    public const UNSETTLED_STATUSES = ['PENDING', 'AUTHORIZED'];
    public const MAX_ORDERS = 10000;
    /** The additional-information key under which MONEI's module keeps its payment id. */
    public const MONEI_PAYMENT_ID = 'monei_payment_id';

    public function __construct(private ResourceConnection $resource, private Backend $backend)
    {
    }

    /** @param int $olderThanS only orders created at least this many seconds ago (>= 0) */
    public function find(int $olderThanS): Report
    {
        if ($olderThanS < 0) {
            throw new \InvalidArgumentException("the threshold must be 0 seconds or more, got $olderThanS");
        }
        $db = $this->resource->getConnection('sales');
        $states = implode(', ', array_map(static fn (string $s) => "'$s'", self::OPEN_STATES));
        $rows = $db->fetchAll(
            'SELECT o.increment_id, o.state, p.additional_information, p.last_trans_id,'
            . ' UNIX_TIMESTAMP() - UNIX_TIMESTAMP(o.created_at) AS age_s'
            . ' FROM ' . $this->resource->getTableName('sales_order') . ' o'
            . ' LEFT JOIN ' . $this->resource->getTableName('sales_order_payment') . ' p ON p.parent_id = o.entity_id'
            . " WHERE o.state IN ($states) AND o.created_at <= NOW() - INTERVAL ? SECOND"
            . ' ORDER BY o.created_at, o.entity_id LIMIT ' . (self::MAX_ORDERS + 1),
            [$olderThanS],
        );
        $truncated = count($rows) > self::MAX_ORDERS;
        $stuck = [];
        $seen = [];
        foreach (array_slice($rows, 0, self::MAX_ORDERS) as $row) {
            $order = (string) $row['increment_id'];
            if (isset($seen[$order])) {
                continue;
            }
            $seen[$order] = true;
            $paymentId = self::paymentIdOf($row);
            $status = $paymentId === null ? null : $this->backend->stateMachine()->current($paymentId);
            if ($row['state'] !== self::PENDING_PAYMENT && !in_array($status, self::UNSETTLED_STATUSES, true)) {
                continue;
            }
            $stuck[] = [
                'order' => $order,
                'state' => (string) $row['state'],
                'payment_id' => $paymentId,
                'payment_status' => $status,
                'age_s' => max(0, (int) $row['age_s']),
            ];
        }
        return new Report($stuck, $olderThanS, $truncated);
    }

    /** MONEI's payment id of an order's payment row, if it has one. */
    private static function paymentIdOf(array $row): ?string
    {
        $info = json_decode((string) ($row['additional_information'] ?? ''), true);
        $id = is_array($info) ? ($info[self::MONEI_PAYMENT_ID] ?? null) : null;
        if (!is_string($id) || $id === '') {
            $id = $row['last_trans_id'] ?? null;
        }
        return is_string($id) && $id !== '' ? $id : null;
    }
}
