<?php

declare(strict_types=1);

/*
 * Prometheus scrape endpoint for PHP-FPM: answers GET (and HEAD) with
 * \Monei\Concurrency\metrics() as text/plain; version=0.0.4.
 *
 * Serve it from the PHP-FPM pool whose workers take the locks (the counters
 * are those of that pool's master, see docs/operations.md#metrics), behind
 * nginx with an allow-list: contrib/nginx/monei-concurrency-metrics.conf.
 * It reads nothing from the request but its method and prints counters and
 * histograms only: no setting, URL, password or lock name.
 *
 *   405  any method but GET and HEAD
 *   503  the extension is not loaded in this pool (a clear one-line body)
 *   200  the metrics
 */

header('Cache-Control: no-store');
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
if ($method !== 'GET' && $method !== 'HEAD') {
    http_response_code(405);
    header('Allow: GET, HEAD');
    header('Content-Type: text/plain; charset=utf-8');
    echo "monei_concurrency metrics: method not allowed, use GET\n";
    return;
}
if (!function_exists('Monei\\Concurrency\\metrics')) {
    http_response_code(503);
    header('Content-Type: text/plain; charset=utf-8');
    echo "monei_concurrency metrics: the monei_concurrency extension is not loaded in this PHP pool\n";
    return;
}
header('Content-Type: text/plain; version=0.0.4; charset=utf-8');
echo \Monei\Concurrency\metrics();
