<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Metrics;

use Monei\Concurrency\Model\Backend;
use Monei\Concurrency\Model\StuckPayments\Snapshot;
use Monei\Concurrency\Model\Webhook\Response;

/**
 * The decisions of GET /monei_concurrency/metrics (Controller\Metrics\Index
 * only copies the Response into a Raw result):
 *
 *   404  metrics/enabled is not set in env.php (the default: not exposed)
 *   405  a method other than GET or HEAD
 *   403  the caller's address (REMOTE_ADDR, the direct peer) is not in
 *        metrics/allow (default 127.0.0.1 and ::1)
 *   500  metrics/allow holds an entry that is not an address or range
 *   503  the extension is not loaded
 *   200  \Monei\Concurrency\metrics(), then gauges only Redis and the
 *        database know:
 *        monei_concurrency_redis_up                    1, or 0 when Redis could not be read
 *        monei_concurrency_locks_held                  locks held now (reads at most LOCKS_LIMIT)
 *        monei_concurrency_locks_held_truncated        1 when LOCKS_LIMIT was reached
 *        monei_concurrency_lock_waiters                waiters queued on those locks
 *        monei_concurrency_lock_oldest_hold_seconds    age of the oldest hold
 *        monei_concurrency_stuck_payments              last count of the cron job
 *        monei_concurrency_stuck_payment_oldest_age_seconds
 *        monei_concurrency_stuck_payments_older_than_seconds  its threshold
 *        monei_concurrency_stuck_payments_truncated     1 when the job hit Finder::MAX_ORDERS
 *        monei_concurrency_stuck_payments_checked_timestamp_seconds  when it ran
 *        (the stuck_* gauges are left out until the job has run, or when
 *        the database cannot be read).
 *
 * Nothing of the configuration, lock names, holders or order ids is printed.
 */
class Endpoint
{
    public const LOCKS_LIMIT = 1000;

    public function __construct(private Backend $backend, private Snapshot $snapshot)
    {
    }

    public function respond(string $method, string $remoteAddress): Response
    {
        $config = $this->backend->config();
        if (!$config->metricsEnabled()) {
            return new Response(404, "not found\n");
        }
        if ($method !== 'GET' && $method !== 'HEAD') {
            return new Response(405, "method not allowed, use GET\n");
        }
        try {
            $allowed = (new AllowList($config->metricsAllowList()))->allows($remoteAddress);
        } catch (\InvalidArgumentException $e) {
            return new Response(500, $e->getMessage() . "\n");
        }
        if (!$allowed) {
            return new Response(403, "forbidden\n");
        }
        if (!function_exists('Monei\\Concurrency\\metrics')) {
            return new Response(503, "the monei_concurrency extension is not loaded in this PHP\n");
        }
        return new Response(200, \Monei\Concurrency\metrics() . $this->redisGauges() . $this->stuckGauges());
    }

    private function redisGauges(): string
    {
        try {
            $locks = $this->backend->listLocks(null, self::LOCKS_LIMIT);
        } catch (\Monei\Concurrency\ConcurrencyException | \Monei\Concurrency\InvalidArgumentException $e) {
            return self::gauge('redis_up', 'Whether this scrape could read the held locks from Redis.', 0);
        }
        $oldestMs = $locks === [] ? 0 : max(array_column($locks, 'held_ms'));
        return self::gauge('redis_up', 'Whether this scrape could read the held locks from Redis.', 1)
            . self::gauge('locks_held', 'Locks held now under the key prefix (at most ' . self::LOCKS_LIMIT . ' are read).', count($locks))
            . self::gauge('locks_held_truncated', '1 when the number of held locks reached the read limit.', (int) (count($locks) >= self::LOCKS_LIMIT))
            . self::gauge('lock_waiters', 'Callers queued on the held locks.', array_sum(array_column($locks, 'waiters')))
            . self::gauge('lock_oldest_hold_seconds', 'How long the oldest held lock has been held.', $oldestMs / 1000);
    }

    private function stuckGauges(): string
    {
        try {
            $last = $this->snapshot->load();
        } catch (\Throwable $e) {
            return '';
        }
        if ($last === null) {
            return '';
        }
        return self::gauge('stuck_payments', 'Orders whose payment had no outcome after the threshold, at the last check.', $last['stuck'])
            . self::gauge('stuck_payment_oldest_age_seconds', 'Age of the oldest of them at the last check.', $last['oldest_age_s'])
            . self::gauge('stuck_payments_older_than_seconds', 'The threshold of the last check.', $last['older_than_s'])
            . self::gauge('stuck_payments_truncated', '1 when the last check looked at its maximum number of orders.', (int) $last['truncated'])
            . self::gauge('stuck_payments_checked_timestamp_seconds', 'When the last check ran (Unix time).', $last['checked_at']);
    }

    private static function gauge(string $name, string $help, int|float $value): string
    {
        return "# HELP monei_concurrency_$name $help\n# TYPE monei_concurrency_$name gauge\nmonei_concurrency_$name $value\n";
    }
}
