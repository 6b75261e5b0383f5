<?php

declare(strict_types=1);

namespace Monei\Concurrency\E2e;

/**
 * The load: signed MONEI webhooks (each event delivered several times,
 * shuffled, stale ones included) and customer redirect callbacks for the same
 * orders, sent with curl_multi, $concurrency in flight. A delivery answered
 * with anything but 2xx (or the expected 403 for a forged one) is retried
 * later, as MONEI does, until it succeeds or the deadline passes.
 */
final class Workload
{
    public const PATH = ['PENDING', 'AUTHORIZED', 'SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED'];
    public const SECRET = 'sk_e2e_current_key';
    private const SPREAD = 24;

    /** @var array<string, array{order: string, events: list<string>, final: string}> payment id => plan */
    public array $payments = [];
    /** @var list<array> requests to send (kind, payment, ...), shuffled */
    public array $requests = [];
    public int $webhooks = 0;
    public int $forged = 0;
    public int $redirects = 0;
    public int $events = 0;

    public function __construct(
        public readonly string $run,
        int $payments,
        int $webhooks,
        int $seed,
        float $forgedShare = 0.02,
        /** Control run: the app captures WITHOUT the lock (must produce double captures). */
        public readonly bool $naive = false,
    )
    {
        mt_srand($seed);
        $events = [];
        for ($i = 0; $i < $payments; $i++) {
            $order = (string) (100000000 + $i);
            $pay = 'pay_' . substr(sha1("$run/$i"), 0, 12);
            $r = mt_rand(1, 100);
            $final = $r <= 70 ? 'SUCCEEDED' : ($r <= 90 ? 'PARTIALLY_REFUNDED' : 'REFUNDED');
            $list = [];
            foreach (self::PATH as $st) {
                // Intermediate webhooks are sometimes lost altogether.
                if ($st === $final || mt_rand(1, 100) > 25) {
                    $list[] = $st;
                }
                if ($st === $final) {
                    break;
                }
            }
            $this->payments[$pay] = ['order' => $order, 'events' => $list, 'final' => $final];
            foreach ($list as $st) {
                $events[] = [$pay, $st];
            }
        }
        $this->events = count($events);
        // Every event delivered 3 to 10 times, $webhooks deliveries in all.
        $times = array_fill(0, count($events), 3);
        $left = $webhooks - 3 * count($events);
        while ($left > 0) {
            $k = mt_rand(0, count($events) - 1);
            if ($times[$k] < 10) {
                $times[$k]++;
                $left--;
            }
        }
        foreach ($events as $k => [$pay, $st]) {
            for ($n = 0; $n < $times[$k]; $n++) {
                $this->requests[] = ['kind' => 'webhook', 'payment' => $pay, 'status' => $st, 'forged' => false];
                $this->webhooks++;
            }
        }
        $forged = (int) round($webhooks * $forgedShare);
        $pays = array_keys($this->payments);
        for ($n = 0; $n < $forged; $n++) {
            $pay = $pays[mt_rand(0, count($pays) - 1)];
            $this->requests[] = ['kind' => 'webhook', 'payment' => $pay, 'status' => 'REFUNDED', 'forged' => true];
            $this->forged++;
        }
        foreach ($this->payments as $pay => $p) {
            for ($n = mt_rand(1, 2); $n > 0; $n--) {
                $this->requests[] = ['kind' => 'redirect', 'payment' => $pay];
                $this->redirects++;
            }
        }
        // Shuffled, but with the deliveries of one payment close together:
        // each payment gets a random place in the sequence and each of its
        // requests lands within +-SPREAD positions of it, in random order. With
        // 32 requests in flight, deliveries of the same payment really do race
        // (and stale statuses still arrive after newer ones).
        $place = [];
        foreach (array_keys($this->payments) as $pay) {
            $place[$pay] = mt_rand(0, count($this->requests));
        }
        $keyed = [];
        foreach ($this->requests as $req) {
            $keyed[] = [$place[$req['payment']] + mt_rand(-self::SPREAD * 1000, self::SPREAD * 1000) / 1000, $req];
        }
        usort($keyed, fn ($a, $b) => $a[0] <=> $b[0]);
        $this->requests = array_column($keyed, 1);
    }

    /** The furthest status of a payment along MONEI's path among the events sent. */
    public function furthest(string $pay): string
    {
        $best = -1;
        foreach ($this->payments[$pay]['events'] as $st) {
            $best = max($best, array_search($st, self::PATH, true));
        }
        return self::PATH[$best];
    }
}

final class Driver
{
    /** @var list<array> one entry per HTTP exchange */
    public array $log = [];
    public float $started = 0;
    public float $finished = 0;
    /** @var list<int> indexes of requests that never got a final answer */
    public array $undelivered = [];

    /**
     * @param float $rate requests started per second at most (0 = as fast as possible)
     * @param float $deadlineS give up retrying this long after the start
     */
    public function __construct(
        private Workload $w,
        private string $baseUrl,
        private int $concurrency = 32,
        private float $rate = 0,
        private float $deadlineS = 90,
    ) {
    }

    private function handle(array $req, int $attempt): \CurlHandle
    {
        $p = $this->w->payments[$req['payment']];
        $run = $this->w->run . ($this->w->naive ? '&naive=1' : '');
        if ($req['kind'] === 'redirect') {
            $ch = curl_init("{$this->baseUrl}/redirect.php?run=$run&order={$p['order']}&payment={$req['payment']}");
        } else {
            $body = json_encode(['id' => $req['payment'], 'orderId' => $p['order'], 'status' => $req['status'],
                'amount' => 1000 + crc32($req['payment']) % 9000, 'currency' => 'EUR']);
            $t = time();
            $sig = hash_hmac('sha256', "$t.$body", $req['forged'] ? 'sk_attacker' : Workload::SECRET);
            $ch = curl_init("{$this->baseUrl}/webhook.php?run=$run");
            curl_setopt_array($ch, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body,
                CURLOPT_HTTPHEADER => ['Content-Type: application/json', "MONEI-Signature: t=$t,v1=$sig"]]);
        }
        curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT_MS => 30000,
            CURLOPT_CONNECTTIMEOUT_MS => 5000, CURLOPT_NOPROXY => '*']);
        return $ch;
    }

    private function final(array $req, int $code): bool
    {
        if ($req['kind'] === 'webhook' && $req['forged']) {
            return $code === 403;
        }
        return $code >= 200 && $code < 300;
    }

    public function run(): void
    {
        $mh = curl_multi_init();
        curl_multi_setopt($mh, CURLMOPT_MAX_HOST_CONNECTIONS, $this->concurrency);
        $fresh = array_keys($this->w->requests);   // first deliveries, in workload order
        $retries = [];                              // [due time, request index, attempt], sorted by due time
        $inflight = [];                             // spl_object_id => [index, attempt, start, handle]
        $this->started = microtime(true);
        $deadline = $this->started + $this->deadlineS;
        $sent = 0;
        while ($fresh !== [] || $retries !== [] || $inflight !== []) {
            $now = microtime(true);
            // Start what is due (retries first), up to the concurrency and the rate.
            while (count($inflight) < $this->concurrency
                && ($this->rate <= 0 || $sent < $this->rate * ($now - $this->started) + 1)) {
                if ($retries !== [] && $retries[0][0] <= $now) {
                    [, $i, $attempt] = array_shift($retries);
                } elseif ($fresh !== []) {
                    $i = array_shift($fresh);
                    $attempt = 1;
                } else {
                    break;
                }
                if ($now > $deadline) {
                    $this->undelivered[] = $i;
                    continue;
                }
                $ch = $this->handle($this->w->requests[$i], $attempt);
                curl_multi_add_handle($mh, $ch);
                $inflight[spl_object_id($ch)] = [$i, $attempt, microtime(true), $ch];
                $sent++;
            }
            curl_multi_exec($mh, $active);
            while (($info = curl_multi_info_read($mh)) !== false) {
                $ch = $info['handle'];
                [$i, $attempt, $start] = $inflight[spl_object_id($ch)];
                unset($inflight[spl_object_id($ch)]);
                $end = microtime(true);
                $code = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
                $raw = (string) curl_multi_getcontent($ch);
                $body = json_decode($raw, true);
                curl_multi_remove_handle($mh, $ch);
                $req = $this->w->requests[$i];
                $this->log[] = [
                    'i' => $i, 'kind' => $req['kind'], 'forged' => $req['forged'] ?? false, 'attempt' => $attempt,
                    'code' => $code, 'start' => $start, 'end' => $end, 'curl_error' => $info['result'],
                    'error' => is_array($body) ? ($body['error'] ?? null) : ($code ? substr($raw, 0, 200) : curl_strerror($info['result'])),
                    'duplicate' => is_array($body) ? ($body['duplicate'] ?? null) : null,
                    'capture' => is_array($body) ? ($body['capture'] ?? null) : null,
                    'failed_call' => is_array($body) ? ($body['failed_call'] ?? null) : null,
                    'pid' => is_array($body) ? ($body['pid'] ?? null) : null,
                    'app_ms' => is_array($body) ? ($body['ms'] ?? null) : null,
                ];
                if (!$this->final($req, $code)) {
                    // Retry later, like MONEI: growing back-off with jitter.
                    $delay = min(1.0, 0.05 * (2 ** min($attempt - 1, 4))) * (0.5 + mt_rand() / mt_getrandmax());
                    $retries[] = [$end + $delay, $i, $attempt + 1];
                    usort($retries, fn ($a, $b) => $a[0] <=> $b[0]);
                }
            }
            if ($inflight !== []) {
                curl_multi_select($mh, 0.005);
            } elseif ($fresh !== [] || $retries !== []) {
                usleep(2000);
            }
        }
        curl_multi_close($mh);
        $this->finished = microtime(true);
    }

    /** Latency percentiles (ms) of the exchanges selected by $filter. */
    public function percentile(float $p, ?callable $filter = null): float
    {
        $l = [];
        foreach ($this->log as $e) {
            if ($filter === null || $filter($e)) {
                $l[] = ($e['end'] - $e['start']) * 1000;
            }
        }
        if ($l === []) {
            return 0.0;
        }
        sort($l);
        return $l[(int) min(count($l) - 1, floor($p / 100 * count($l)))];
    }
}
