<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\StuckPayments;

/**
 * The result of one search for stuck payments (Finder::find()): the orders
 * found, oldest first, with the threshold used and whether the search hit
 * Finder::MAX_ORDERS (then the count is "at least").
 */
final class Report
{
    /**
     * @param list<array{order: string, state: string, payment_id: ?string, payment_status: ?string, age_s: int}> $payments
     */
    public function __construct(
        public readonly array $payments,
        public readonly int $olderThanS,
        public readonly bool $truncated,
    ) {
    }

    public function count(): int
    {
        return count($this->payments);
    }

    /** Age of the oldest stuck order in seconds, 0 when there is none. */
    public function oldestAgeS(): int
    {
        return $this->payments === [] ? 0 : max(array_column($this->payments, 'age_s'));
    }
}
