<?php

declare(strict_types=1);

namespace Monei\Concurrency\Cron;

use Monei\Concurrency\Model\Config;
use Monei\Concurrency\Model\StuckPayments\Finder;
use Monei\Concurrency\Model\StuckPayments\Snapshot;

/**
 * Cron job monei_concurrency_stuck_payments (etc/crontab.xml, every 5
 * minutes): counts the stuck payments older than stuck_payments/older_than_s
 * and stores the count for the metrics endpoint. A database or Redis failure
 * propagates (Magento records the job as failed) and leaves the previous
 * count in place with its old checked_at, which the metrics show.
 */
class CheckStuckPayments
{
    public function __construct(private Finder $finder, private Snapshot $snapshot, private Config $config)
    {
    }

    public function execute(): void
    {
        $this->snapshot->save($this->finder->find($this->config->stuckOlderThanS()));
    }
}
