<?php
// Shared by the bench scenarios: the lock implementations behind one
// interface, PING timing, server CPU time, forking and small statistics helpers.
//
// Every scenario is a separate PHP process started by bench/bench.php with
// the extension loaded; it reads its parameters as JSON from argv[1] and
// prints its measurements as JSON on stdout.

declare(strict_types=1);

require_once '/usr/share/php/Symfony/Component/Lock/autoload.php';
require_once '/usr/share/php/Predis/autoload.php';
require_once __DIR__ . '/magento.php';

use Symfony\Component\Lock\LockFactory;
use Symfony\Component\Lock\Store\RedisStore;

const IMPLS = ['monei', 'handwritten', 'symfony_phpredis', 'symfony_predis', 'magento_db', 'magento_db_monei', 'magento_cache_monei'];
/** Implementations that give no mutual exclusion: their overlaps are counted, not a failure. */
const UNSAFE_IMPLS = ['magento_cache_monei'];
/** Implementations whose server is MariaDB (the others use Redis). */
const MARIADB_IMPLS = ['magento_db', 'magento_db_monei'];

/** A lock: run $work while holding the lock on $key, waiting as long as needed. */
interface BenchLock
{
    public function run(string $key, callable $work): void;
}

/** The extension: ProcessingLock::executeWithLock() with its defaults (auto-renewed lease). */
final class MoneiLock implements BenchLock
{
    private Monei\Concurrency\ProcessingLock $lock;

    public function __construct(int $port, array $options = [])
    {
        $this->lock = new Monei\Concurrency\ProcessingLock($options + [
            'redis_url' => "redis://127.0.0.1:$port",
            'lock_wait_ms' => 120000,
        ]);
    }

    public function run(string $key, callable $work): void
    {
        $this->lock->executeWithLock($key, 'pay', $work);
    }
}

/**
 * The best a userland PHP lock can do over phpredis: SET NX PX to take,
 * EVALSHA compare-and-delete to release, retry every 2 ms while busy.
 */
final class HandWrittenLock implements BenchLock
{
    private const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
    private string $sha;
    private string $prefix;
    private int $seq = 0;

    public function __construct(private Redis $redis)
    {
        $this->sha = $redis->script('load', self::RELEASE);
        $this->prefix = bin2hex(random_bytes(8)) . '.';
    }

    public function run(string $key, callable $work): void
    {
        $k = "hw:{$key}";
        $token = $this->prefix . ++$this->seq;
        while (!$this->redis->set($k, $token, ['nx', 'px' => 30000])) {
            usleep(2000);
        }
        try {
            $work();
        } finally {
            $r = $this->redis->evalSha($this->sha, [$k, $token], 1);
            if ($r === false && str_contains((string) $this->redis->getLastError(), 'NOSCRIPT')) {
                $this->redis->clearLastError();
                $this->redis->eval(self::RELEASE, [$k, $token], 1);
            }
        }
    }
}

/** symfony/lock 5.4 as documented: LockFactory + RedisStore, blocking acquire(), release(). */
final class SymfonyLock implements BenchLock
{
    private LockFactory $factory;

    public function __construct($client)
    {
        $this->factory = new LockFactory(new RedisStore($client));
    }

    public function run(string $key, callable $work): void
    {
        $lock = $this->factory->createLock("sf:{$key}");
        $lock->acquire(true);
        try {
            $work();
        } finally {
            $lock->release();
        }
    }
}

/**
 * A Magento lock backend called directly: lock($name, 5) (for GET_LOCK a
 * wait inside the server, retried if it times out), the work, unlock($name).
 */
final class MagentoBackendLock implements BenchLock
{
    public function __construct(private MagentoLockBackend $backend)
    {
    }

    public function run(string $key, callable $work): void
    {
        $name = "MONEI_PAYMENT_LOCK_{$key}_pay";
        while (!$this->backend->lock($name, MoneiLockManager::LOCK_TIMEOUT_S)) {
        }
        try {
            $work();
        } finally {
            $this->backend->unlock($name);
        }
    }
}

/** A Magento lock backend as MONEI's lock manager takes it (with its 500 ms poll); $key stands for the order. */
final class MagentoLock implements BenchLock
{
    private MoneiLockManager $manager;

    public function __construct(MagentoLockBackend $backend)
    {
        $this->manager = new MoneiLockManager($backend, true);
    }

    public function run(string $key, callable $work): void
    {
        $this->manager->executeWithPaymentLock($key, 'pay', $work);
    }
}

function phpredis(int $port): Redis
{
    $r = new Redis();
    if (!$r->connect('127.0.0.1', $port, 2.0)) {
        throw new RuntimeException("cannot connect to redis on port $port");
    }
    return $r;
}

/** A fresh lock object of implementation $impl with its own connection(s). */
function make_lock(string $impl, int $port): BenchLock
{
    if (in_array($impl, MARIADB_IMPLS, true) || $impl === 'magento_db_socket') {
        // Over loopback TCP, like Redis; magento_db_socket over the unix socket, for comparison.
        $port = (int) getenv('BENCH_MARIADB_PORT');
        $where = $impl === 'magento_db_socket' || $port === 0 ? mariadb_socket() : "127.0.0.1:$port";
        $backend = new MagentoDatabaseLock(MagentoDatabaseLock::connect($where));
        return $impl === 'magento_db_monei' ? new MagentoLock($backend) : new MagentoBackendLock($backend);
    }
    switch ($impl) {
        case 'monei':
            return new MoneiLock($port);
        case 'monei_nospin':
            // The extension with reply polling off: what the protocol costs
            // with the same sleeping reads as phpredis.
            return new MoneiLock($port, ['reply_spin_us' => 0]);
        case 'handwritten':
            return new HandWrittenLock(phpredis($port));
        case 'symfony_phpredis':
            return new SymfonyLock(phpredis($port));
        case 'symfony_predis':
            $c = new Predis\Client(['scheme' => 'tcp', 'host' => '127.0.0.1', 'port' => $port]);
            $c->connect();
            return new SymfonyLock($c);
        case 'magento_cache_monei':
            return new MagentoLock(new MagentoCacheLock(phpredis($port)));
    }
    throw new InvalidArgumentException("unknown implementation $impl");
}

function mariadb_socket(): string
{
    $s = (string) getenv('BENCH_MARIADB_SOCKET');
    if ($s === '') {
        throw new RuntimeException('BENCH_MARIADB_SOCKET is not set (bench/run.sh starts MariaDB)');
    }
    return $s;
}

/** The bench's MariaDB server process (tests/tools/with-mariadb.sh writes its pid file beside the socket). */
function mariadb_pid(): int
{
    $pidFile = dirname(mariadb_socket()) . '/mysqld.pid';
    $pid = (int) @file_get_contents($pidFile);
    if ($pid <= 0) {
        throw new RuntimeException("no MariaDB server pid in $pidFile");
    }
    return $pid;
}

/**
 * CPU time the servers have used so far, in microseconds: Redis' own
 * (INFO cpu: used_cpu_sys + used_cpu_user) and the MariaDB server process'
 * (utime + stime of /proc/<pid>/stat, all its threads, in clock ticks).
 * Not INFO commandstats: it counts each command a script calls on its own as
 * well as inside the script's time, so scripts would count twice.
 */
function server_cpu_us(Redis $redis): array
{
    $info = $redis->info('cpu');
    $pid = mariadb_pid();
    $stat = @file_get_contents("/proc/$pid/stat");
    if ($stat === false) {
        throw new RuntimeException("cannot read the MariaDB server's CPU time (/proc/$pid/stat)");
    }
    $f = explode(' ', substr($stat, strrpos($stat, ')') + 2));
    static $hz = null;
    $hz ??= (int) trim((string) shell_exec('getconf CLK_TCK')) ?: 100;
    return [
        'redis' => ((float) $info['used_cpu_sys'] + (float) $info['used_cpu_user']) * 1e6,
        'mariadb' => ((int) $f[11] + (int) $f[12]) * 1e6 / $hz,
    ];
}

/** Mean phpredis PING round trip over $n calls, in microseconds. */
function ping_block(Redis $r, int $n): float
{
    $t = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $r->ping();
    }
    return (hrtime(true) - $t) / $n / 1000;
}

/** Median of $blocks block means of $per PINGs each, in microseconds. */
function ping_us(Redis $r, int $blocks = 10, int $per = 200): float
{
    $m = [];
    for ($b = 0; $b < $blocks; $b++) {
        $m[] = ping_block($r, $per);
    }
    return median($m);
}

function median(array $xs): float
{
    return percentile($xs, 50);
}

/** Percentile by linear interpolation between closest ranks. */
function percentile(array $xs, float $p): float
{
    if (!$xs) {
        return NAN;
    }
    sort($xs);
    $pos = ($p / 100) * (count($xs) - 1);
    $lo = (int) floor($pos);
    $hi = (int) ceil($pos);
    return $xs[$lo] + ($xs[$hi] - $xs[$lo]) * ($pos - $lo);
}

function params(): array
{
    $p = json_decode($GLOBALS['argv'][1] ?? '{}', true, 512, JSON_THROW_ON_ERROR);
    $p['port'] = (int) ($p['port'] ?? getenv('BENCH_REDIS_PORT'));
    return $p;
}

function emit(array $result): void
{
    echo json_encode($result, JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION), "\n";
}

/** Resident set size of this process in KiB. */
function rss_kib(): int
{
    $s = file_get_contents('/proc/self/status');
    if (!preg_match('/^VmRSS:\s+(\d+)\s+kB/m', $s, $m)) {
        throw new RuntimeException('no VmRSS in /proc/self/status');
    }
    return (int) $m[1];
}

/** Sleeps until the monotonic clock reaches $at (ns), spinning for the last 200 us. */
function sleep_until(int $at): void
{
    $left = $at - hrtime(true);
    if ($left > 300_000) {
        usleep(intdiv($left - 200_000, 1000));
    }
    while (hrtime(true) < $at) {
    }
}

/**
 * Makes forked children wait for each other, asleep in a Redis BLPOP: a child
 * that is done must not take the CPU from those still measuring (serializing
 * its results, exiting), and none starts before all are ready. Make one
 * before forking; each child calls wait() at the same points.
 */
final class Barrier
{
    private ?Redis $redis = null;
    private int $round = 0;

    public function __construct(private int $port, private string $key, private int $n)
    {
    }

    /** Returns once all $n children called it as often as this one. */
    public function wait(): void
    {
        // Connected on first use, in the child: a forked connection is shared.
        $this->redis ??= phpredis($this->port);
        $key = "{$this->key}:{$this->round}";
        $this->round++;
        if ($this->redis->incr("$key:arrived") === $this->n) {
            $this->redis->rPush("$key:go", ...array_fill(0, $this->n, '1'));
        }
        if (!$this->redis->blPop(["$key:go"], 60)) {
            throw new RuntimeException("barrier $key: not all {$this->n} processes arrived within 60 s");
        }
    }
}

/**
 * Forks $n children running $child($index) (which returns an array), waits for
 * all of them and returns their results in order. A failing child fails the run.
 */
/** CPU time (user + system) this process has used, in microseconds. */
function own_cpu_us(): float
{
    $u = getrusage();
    return $u['ru_utime.tv_sec'] * 1e6 + $u['ru_utime.tv_usec'] + $u['ru_stime.tv_sec'] * 1e6 + $u['ru_stime.tv_usec'];
}

function fork_all(int $n, callable $child): array
{
    $dir = sys_get_temp_dir();
    $files = [];
    $pids = [];
    for ($i = 0; $i < $n; $i++) {
        $files[$i] = tempnam($dir, 'monei-bench-');
        $pid = pcntl_fork();
        if ($pid < 0) {
            throw new RuntimeException('fork failed');
        }
        if ($pid === 0) {
            $rc = 0;
            try {
                file_put_contents($files[$i], serialize($child($i)));
            } catch (Throwable $e) {
                fwrite(STDERR, "child $i: " . get_class($e) . ': ' . $e->getMessage() . "\n");
                $rc = 1;
            }
            exit($rc);
        }
        $pids[$i] = $pid;
    }
    $failed = 0;
    foreach ($pids as $pid) {
        pcntl_waitpid($pid, $status);
        if (!pcntl_wifexited($status) || pcntl_wexitstatus($status) !== 0) {
            $failed++;
        }
    }
    $out = [];
    foreach ($files as $i => $f) {
        $data = file_get_contents($f);
        unlink($f);
        $out[$i] = $data === '' ? null : unserialize($data);
    }
    if ($failed) {
        throw new RuntimeException("$failed of $n child processes failed");
    }
    return $out;
}
