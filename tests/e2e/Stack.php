<?php

declare(strict_types=1);

namespace Monei\Concurrency\E2e;

use Monei\Concurrency\Tests\Support\Resp;

require_once __DIR__ . '/../phpunit/Support/Resp.php';

/**
 * The processes of the end-to-end test, all under one temp directory and all
 * on loopback: a redis-server (append-only file, so a SIGKILL loses no
 * acknowledged write), PHP-FPM (Debian's php-fpm8.2, static pool, run as root
 * with -R, private php.ini and conf.d) and nginx in front of it.
 *
 * Every pid is also written to $dir/pids/, so tests/reliability/run.sh can
 * kill whatever is left if this process dies.
 */
final class Stack
{
    public int $redisPort;
    public int $httpPort;
    /** @var array<string, resource> */
    private array $procs = [];
    /** @var array<string, int> */
    private array $pids = [];
    private string $root;

    public function __construct(public readonly string $dir, public readonly string $extension)
    {
        $this->root = dirname(__DIR__, 2);
        foreach (['pids', 'data', 'conf.d', 'nginx', 'logs', 'redis'] as $d) {
            @mkdir("$dir/$d", 0777, true);
        }
        $this->redisPort = self::freePort();
        $this->httpPort = self::freePort();
    }

    public static function freePort(): int
    {
        $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($s === false) {
            throw new \RuntimeException("no free port: $errstr");
        }
        $name = (string) stream_socket_get_name($s, false);
        fclose($s);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    public function redisUrl(): string
    {
        return "redis://127.0.0.1:{$this->redisPort}";
    }

    public function baseUrl(): string
    {
        return "http://127.0.0.1:{$this->httpPort}";
    }

    // ---- processes -------------------------------------------------------

    /** @param list<string> $cmd */
    private function spawn(string $name, array $cmd, array $env = []): int
    {
        $log = "{$this->dir}/logs/$name.log";
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']],
            $pipes, null, $env === [] ? null : $env + getenv());
        if (!is_resource($proc)) {
            throw new \RuntimeException("cannot start $name");
        }
        $pid = proc_get_status($proc)['pid'];
        $this->procs[$name] = $proc;
        $this->pids[$name] = $pid;
        file_put_contents("{$this->dir}/pids/$name.pid", "$pid\n");
        return $pid;
    }

    public function pid(string $name): ?int
    {
        return $this->pids[$name] ?? null;
    }

    public function running(string $name): bool
    {
        return isset($this->procs[$name]) && proc_get_status($this->procs[$name])['running'];
    }

    /** Sends $signal and, unless it is SIGSTOP/SIGCONT, waits until the process is gone. */
    public function signal(string $name, int $signal, float $timeoutS = 10): void
    {
        if (!isset($this->procs[$name])) {
            return;
        }
        posix_kill($this->pids[$name], $signal);
        if ($signal === SIGSTOP || $signal === SIGCONT) {
            return;
        }
        $deadline = microtime(true) + $timeoutS;
        while (proc_get_status($this->procs[$name])['running']) {
            if (microtime(true) > $deadline) {
                posix_kill($this->pids[$name], SIGKILL);
                $deadline = microtime(true) + 5;
            }
            usleep(2000);
        }
        proc_close($this->procs[$name]);
        unset($this->procs[$name], $this->pids[$name]);
        @unlink("{$this->dir}/pids/$name.pid");
    }

    public function stopAll(): void
    {
        foreach (['prometheus' => SIGTERM, 'nginx' => SIGQUIT, 'fpm' => SIGQUIT, 'redis' => SIGTERM] as $name => $sig) {
            if (isset($this->procs[$name])) {
                posix_kill($this->pids[$name], SIGCONT);
                $this->signal($name, $sig);
            }
        }
    }

    // ---- redis -----------------------------------------------------------

    /**
     * @param string $fsync AOF fsync policy. The default, always: every
     *     acknowledged write is on file before the reply, so SIGKILL + restart
     *     loses no lock, claim or state (the fault suites need that).
     */
    public function startRedis(string $fsync = 'always'): void
    {
        $this->spawn('redis', ['redis-server', '--port', (string) $this->redisPort, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'yes', '--appendfsync', $fsync, '--dir', "{$this->dir}/redis",
            '--maxmemory-policy', 'noeviction', '--maxclients', '1000']);
        $this->waitForRedis(15);
    }

    public function waitForRedis(float $timeoutS): void
    {
        $deadline = microtime(true) + $timeoutS;
        while (!$this->redisPing()) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException('redis-server did not come up: ' . @file_get_contents("{$this->dir}/logs/redis.log"));
            }
            usleep(5000);
        }
    }

    public function redisPing(): bool
    {
        try {
            return $this->redis('PING') === 'PONG';
        } catch (\RuntimeException) {
            return false;
        }
    }

    /** One command on a fresh connection (so it never counts as a lingering client). */
    public function redis(string ...$args): mixed
    {
        $c = new Resp('127.0.0.1', $this->redisPort, null, 1.0);
        return $c->command(...$args);
    }

    // ---- php-fpm ---------------------------------------------------------

    /**
     * @param array<string, string|int> $ini extra monei_concurrency.* INI values
     * @param array<string, string> $env extra environment of the pool (E2E_LOCK, app/locks.php)
     */
    public function startFpm(int $workers = 8, int $maxRequests = 0, array $ini = [], array $env = []): void
    {
        $d = $this->dir;
        file_put_contents("$d/php.ini", implode("\n", [
            '[PHP]',
            'display_errors = Off',
            'log_errors = On',
            "error_log = $d/logs/php-error.log",
            'max_execution_time = 30',
            'memory_limit = 256M',
            'expose_php = Off',
            '',
        ]));
        foreach (glob("$d/conf.d/*.ini") ?: [] as $f) {
            unlink($f);
        }
        foreach (['10-opcache.ini', '10-pdo.ini', '20-pdo_sqlite.ini', '20-sqlite3.ini', '20-posix.ini',
            '10-mysqlnd.ini', '20-pdo_mysql.ini'] as $f) {
            if (is_file("/etc/php/8.2/fpm/conf.d/$f")) {
                symlink("/etc/php/8.2/fpm/conf.d/$f", "$d/conf.d/$f");
            }
        }
        $ini = $ini + [
            'redis_url' => $this->redisUrl(),
            'io_timeout_ms' => 500,
            'connect_timeout_ms' => 500,
            'lock_ttl_ms' => 5000,
            'lock_wait_ms' => 3000,
        ];
        $lines = ["extension={$this->extension}"];
        foreach ($ini as $k => $v) {
            $lines[] = "monei_concurrency.$k = \"$v\"";
        }
        file_put_contents("$d/conf.d/90-monei_concurrency.ini", implode("\n", $lines) . "\n");
        $envLines = implode('', array_map(fn ($k, $v) => "env[$k] = $v\n", array_keys($env), $env));
        file_put_contents("$d/fpm.conf", <<<CONF
            [global]
            pid = $d/fpm.pid
            error_log = $d/logs/fpm-error.log
            log_level = notice
            daemonize = no
            process_control_timeout = 5s

            [e2e]
            user = root
            group = root
            listen = $d/fpm.sock
            listen.backlog = 1024
            listen.mode = 0600
            pm = static
            pm.max_children = $workers
            pm.max_requests = $maxRequests
            request_terminate_timeout = 60s
            catch_workers_output = yes
            decorate_workers_output = no
            clear_env = yes
            env[E2E_DATA_DIR] = $d/data
            $envLines
            CONF);
        @unlink("$d/fpm.sock");
        $this->spawn('fpm', ['php-fpm8.2', '--nodaemonize', '--allow-to-run-as-root', '-c', "$d/php.ini",
            '-y', "$d/fpm.conf"], ['PHP_INI_SCAN_DIR' => "$d/conf.d"]);
        $deadline = microtime(true) + 20;
        while (!file_exists("$d/fpm.sock") || count($this->fpmWorkers()) < $workers) {
            if (!$this->running('fpm') || microtime(true) > $deadline) {
                throw new \RuntimeException('php-fpm did not start: ' . @file_get_contents("$d/logs/fpm.log")
                    . @file_get_contents("$d/logs/fpm-error.log"));
            }
            usleep(10000);
        }
    }

    /** @return list<int> pids of the current FPM workers (children of the master) */
    public function fpmWorkers(): array
    {
        $master = $this->pids['fpm'] ?? null;
        if ($master === null) {
            return [];
        }
        $out = [];
        foreach (glob('/proc/[0-9]*/stat') ?: [] as $f) {
            $stat = @file_get_contents($f);
            if ($stat !== false && preg_match('/\) \S (\d+) /', $stat, $m) && (int) $m[1] === $master) {
                $out[] = (int) basename(dirname($f));
            }
        }
        sort($out);
        return $out;
    }

    // ---- nginx -----------------------------------------------------------

    public function startNginx(): void
    {
        $d = $this->dir;
        $app = __DIR__ . '/app';
        foreach (['body', 'fastcgi', 'proxy', 'uwsgi', 'scgi'] as $t) {
            @mkdir("$d/nginx/$t", 0777, true);
        }
        // The metrics endpoint through the shipped snippet (contrib/nginx), which
        // includes fastcgi_params relative to this configuration's directory.
        copy('/etc/nginx/fastcgi_params', "$d/fastcgi_params");
        $metricsScript = "{$this->root}/php/metrics/metrics.php";
        $metricsSnippet = "{$this->root}/contrib/nginx/monei-concurrency-metrics.conf";
        file_put_contents("$d/nginx.conf", <<<CONF
            daemon off;
            master_process on;
            worker_processes 2;
            user root;
            pid $d/nginx.pid;
            error_log $d/logs/nginx-error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path $d/nginx/body;
                fastcgi_temp_path $d/nginx/fastcgi;
                proxy_temp_path $d/nginx/proxy;
                uwsgi_temp_path $d/nginx/uwsgi;
                scgi_temp_path $d/nginx/scgi;
                upstream fastcgi_backend { server unix:$d/fpm.sock; }
                keepalive_requests 100000;
                keepalive_timeout 60s;
                server {
                    listen 127.0.0.1:{$this->httpPort};
                    root $app;
                    location ~ ^/[a-z_]+\.php$ {
                        include /etc/nginx/fastcgi_params;
                        fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
                        fastcgi_pass unix:$d/fpm.sock;
                        fastcgi_read_timeout 60s;
                    }
                    set \$monei_metrics_script $metricsScript;
                    include $metricsSnippet;
                    location / { return 404; }
                }
            }

            CONF);
        $this->spawn('nginx', ['nginx', '-p', "$d/nginx", '-e', "$d/logs/nginx-error.log", '-c', "$d/nginx.conf"]);
        $deadline = microtime(true) + 15;
        while (true) {
            $s = @stream_socket_client("tcp://127.0.0.1:{$this->httpPort}", $errno, $errstr, 0.2);
            if ($s !== false) {
                fclose($s);
                return;
            }
            if (!$this->running('nginx') || microtime(true) > $deadline) {
                throw new \RuntimeException('nginx did not start: ' . @file_get_contents("$d/logs/nginx.log")
                    . @file_get_contents("$d/logs/nginx-error.log"));
            }
            usleep(10000);
        }
    }

    // ---- prometheus --------------------------------------------------------

    public int $prometheusPort = 0;

    /**
     * Debian's Prometheus server on a free loopback port, data in this
     * directory, scraping $metricsPath of the nginx above every second and
     * evaluating $ruleFiles.
     *
     * @param list<string> $ruleFiles
     */
    public function startPrometheus(string $metricsPath, array $ruleFiles = []): void
    {
        $d = $this->dir;
        $this->prometheusPort = self::freePort();
        @mkdir("$d/prometheus", 0777, true);
        $rules = implode('', array_map(static fn (string $f) => "\n  - $f", $ruleFiles));
        file_put_contents("$d/prometheus.yml", <<<YAML
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
              evaluation_interval: 1s
            rule_files:$rules
            scrape_configs:
              - job_name: monei_concurrency
                metrics_path: $metricsPath
                static_configs:
                  - targets: ['127.0.0.1:{$this->httpPort}']

            YAML);
        $this->spawn('prometheus', ['prometheus', "--config.file=$d/prometheus.yml", "--storage.tsdb.path=$d/prometheus",
            "--web.listen-address=127.0.0.1:{$this->prometheusPort}", '--log.level=warn']);
        $deadline = microtime(true) + 30;
        while (($this->prometheusApi('/-/ready')[0] ?? 0) !== 200) {
            if (!$this->running('prometheus') || microtime(true) > $deadline) {
                throw new \RuntimeException('prometheus did not start: ' . @file_get_contents("$d/logs/prometheus.log"));
            }
            usleep(50000);
        }
        // Targets reach the scrape loop up to 5 s after start (discovery updates are batched): wait for the first scrape.
        while ($this->promQuery('up{job="monei_concurrency"}') === []) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException('prometheus did not scrape within 30 s: ' . @file_get_contents("$d/logs/prometheus.log"));
            }
            usleep(100000);
        }
    }

    /** GET on Prometheus' HTTP API; returns [status, decoded JSON or raw body]. */
    public function prometheusApi(string $path, array $query = []): array
    {
        $ch = curl_init("http://127.0.0.1:{$this->prometheusPort}$path" . ($query === [] ? '' : '?' . http_build_query($query)));
        curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 10, CURLOPT_NOPROXY => '*']);
        $body = curl_exec($ch);
        $code = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $json = is_string($body) ? json_decode($body, true) : null;
        return [$code, $json ?? $body];
    }

    /** An instant query; returns the vector as [labels, value] pairs (throws if the query fails). */
    public function promQuery(string $promql, ?float $time = null): array
    {
        [$code, $r] = $this->prometheusApi('/api/v1/query', ['query' => $promql] + ($time === null ? [] : ['time' => sprintf('%.3f', $time)]));
        if ($code !== 200 || !is_array($r) || ($r['status'] ?? '') !== 'success') {
            throw new \RuntimeException("prometheus query $promql: HTTP $code " . json_encode($r));
        }
        return array_map(static fn (array $e) => [$e['metric'], (float) $e['value'][1]], $r['data']['result']);
    }

    /** Simple blocking GET; returns [status, decoded body or raw string, seconds]. */
    public function get(string $path, float $timeoutS = 30, array $curl = []): array
    {
        $ch = curl_init($this->baseUrl() . $path);
        curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT_MS => (int) ($timeoutS * 1000),
            CURLOPT_NOPROXY => '*'] + $curl);
        $t = microtime(true);
        $body = curl_exec($ch);
        $dt = microtime(true) - $t;
        $code = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $json = is_string($body) ? json_decode($body, true) : null;
        return [$code, $json ?? $body, $dt];
    }
}
