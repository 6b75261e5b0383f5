<?php

declare(strict_types=1);

/*
 * API fuzzer of the monei_concurrency extension.
 *
 * Calls every public method of every class and every namespace function of
 * the extension (found with Reflection) with random arguments: wrong types,
 * empty, huge (1 MB), binary, NUL bytes, invalid UTF-8, negative and huge
 * integers, floats, null, arrays, nested arrays, objects, non-callables,
 * callables that return anything, throw, re-enter the extension or exit()
 * (exit only in a forked child). Half the calls are made from a file with
 * strict_types, half from one without (coercion paths).
 *
 * Only documented exceptions may come out: TypeError, ValueError,
 * ArgumentCountError, the extension's Monei\Concurrency\* exceptions, and
 * what the fuzzer's own callables / __toString throw, and the \Error that
 * `new Lease()` and `new WebhookSignature()` are documented to throw.
 *
 *   php fuzz.php --redis-url URL [--calls 100000] [--batch 2500] [--lanes 2] [--seed N]
 *       runs batches in child processes (a crash or hang is reported with its seed and batch)
 *   php fuzz.php --child --redis-url URL --seed N --batch-no B --calls C
 *       one batch (what the parent runs; use it to reproduce a failure)
 *
 * Every redis_url the fuzzer generates is either the throwaway server given
 * or a loopback/unix address that refuses: no traffic leaves the machine.
 */

require __DIR__ . '/lib.php';

$opt = getopt('', ['child', 'redis-url:', 'calls:', 'batch:', 'batch-no:', 'lanes:', 'seed:', 'timeout:']);
if (!extension_loaded('monei_concurrency')) {
    fwrite(STDERR, "fuzz.php: the extension must be loaded\n");
    exit(2);
}
if (!isset($opt['redis-url'])) {
    fwrite(STDERR, "fuzz.php: --redis-url is required (a throwaway server)\n");
    exit(2);
}

if (isset($opt['child'])) {
    require __DIR__ . '/fuzz/Fuzzer.php';
    $f = new \Monei\Concurrency\Fuzz\Fuzzer((string) $opt['redis-url'], (int) $opt['seed'], (int) $opt['batch-no']);
    $f->run((int) $opt['calls']);
    echo "\nFUZZ-RESULT ", json_encode($f->result(), JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
    exit(0);
}

// ---- parent: batches in child processes, $lanes at a time ------------------
$calls = (int) ($opt['calls'] ?? 100000);
$batchSize = (int) ($opt['batch'] ?? 2500);
$lanes = max(1, (int) ($opt['lanes'] ?? 2));
$seed = (int) ($opt['seed'] ?? random_int(1, 1 << 30));
$timeoutS = (float) ($opt['timeout'] ?? 180);
$url = rtrim((string) $opt['redis-url'], '/');
$batches = (int) ceil($calls / $batchSize);
rel_say(sprintf('fuzz: %d calls in %d batches of %d (child processes, %d at a time), seed %d, redis %s',
    $calls, $batches, $batchSize, $lanes, $seed, $url));

$dir = sys_get_temp_dir() . '/monei-fuzz-' . getmypid();
@mkdir($dir);
$running = [];     // lane => [proc, batch, started, out, err, n]
$next = 0;
$totals = ['calls' => 0, 'outcomes' => [], 'targets' => [], 'violations' => [], 'warnings' => [], 'exit_children' => 0,
    'notes' => []];
$crashes = [];
$t0 = microtime(true);
$lastReport = $t0;

$start = function (int $lane, int $batch) use ($url, $seed, $batchSize, $calls, $dir): array {
    $n = min($batchSize, $calls - $batch * $batchSize);
    // Each lane has its own Redis database, so parallel batches never wait on each other's locks.
    $laneUrl = "$url/$lane";
    $out = "$dir/b$batch.out";
    $err = "$dir/b$batch.err";
    $cmd = [PHP_BINARY, '-d', 'memory_limit=2G', '-d', 'display_errors=stderr', '-d', 'error_reporting=-1',
        '-d', "monei_concurrency.redis_url=$laneUrl", '-d', "monei_concurrency.key_prefix=fz$batch:",
        __FILE__, '--child', '--redis-url', $laneUrl, '--seed', (string) $seed, '--batch-no', (string) $batch,
        '--calls', (string) $n];
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $err, 'w']], $pipes);
    return [$proc, $batch, microtime(true), $out, $err, $n, $laneUrl, $cmd];
};

$flush = function (string $laneUrl): void {
    $p = parse_url($laneUrl);
    $s = @stream_socket_client("tcp://{$p['host']}:{$p['port']}", $errno, $errstr, 2);
    if ($s !== false) {
        $db = trim($p['path'] ?? '/0', '/');
        fwrite($s, "*2\r\n\$6\r\nSELECT\r\n\$" . strlen($db) . "\r\n$db\r\n*1\r\n\$7\r\nFLUSHDB\r\n");
        fgets($s);
        fgets($s);
        fclose($s);
    }
};

while ($next < $batches || $running !== []) {
    for ($lane = 0; $lane < $lanes; $lane++) {
        if (!isset($running[$lane]) && $next < $batches) {
            $running[$lane] = $start($lane, $next++);
        }
    }
    foreach ($running as $lane => [$proc, $batch, $started, $out, $err, $n, $laneUrl, $cmd]) {
        $st = proc_get_status($proc);
        if ($st['running']) {
            if (microtime(true) - $started > $timeoutS) {
                proc_terminate($proc, SIGKILL);
                while (proc_get_status($proc)['running']) {
                    usleep(1000);
                }
                proc_close($proc);
                $crashes[] = "batch $batch (seed $seed): HANG, no result after {$timeoutS}s; stderr: "
                    . substr((string) @file_get_contents($err), -500);
                unset($running[$lane]);
                $flush($laneUrl);
            }
            continue;
        }
        proc_close($proc);
        unset($running[$lane]);
        $stdout = (string) @file_get_contents($out);
        $stderr = (string) @file_get_contents($err);
        $how = $st['signaled'] ? 'killed by signal ' . $st['termsig'] : 'exit code ' . $st['exitcode'];
        $pos = strrpos($stdout, "\nFUZZ-RESULT ");
        $res = $pos === false ? null : json_decode(substr($stdout, $pos + 13), true);
        if ($st['signaled'] || $st['exitcode'] !== 0 || !is_array($res)) {
            $crashes[] = "batch $batch (seed $seed): CRASH, $how; reproduce: "
                . implode(' ', array_map('escapeshellarg', $cmd)) . '; stderr: ' . substr($stderr, -800);
        } else {
            $totals['calls'] += $res['calls'];
            $totals['exit_children'] += $res['exit_children'];
            foreach (['outcomes', 'targets', 'warnings'] as $k) {
                foreach ($res[$k] as $name => $c) {
                    $totals[$k][$name] = ($totals[$k][$name] ?? 0) + $c;
                }
            }
            foreach ($res['violations'] as $what => $v) {
                $totals['violations'][$what] ??= ['n' => 0, 'example' => "batch $batch (seed $seed): {$v['example']}"];
                $totals['violations'][$what]['n'] += $v['n'];
            }
            foreach ($res['notes'] as $v) {
                $totals['notes'][$v] = true;
            }
        }
        @unlink($out);
        @unlink($err);
        $flush($laneUrl);
    }
    if (microtime(true) - $lastReport > 15) {
        $lastReport = microtime(true);
        rel_say(sprintf('fuzz: %d/%d batches done, %d calls, %.0f s', $next - count($running), $batches, $totals['calls'],
            microtime(true) - $t0));
    }
    usleep(20000);
}
@rmdir($dir);
$wall = microtime(true) - $t0;

arsort($totals['outcomes']);
echo "  outcomes per exception class (calls that returned normally: \"returned\"):\n";
foreach ($totals['outcomes'] as $name => $c) {
    printf("    %8d  %s\n", $c, $name);
}
$methods = count($totals['targets']);
$minCalls = $totals['targets'] === [] ? 0 : min($totals['targets']);
printf("  %d API entry points called (min %d calls each), %d exit()-in-callback children\n", $methods, $minCalls,
    $totals['exit_children']);
if ($totals['warnings'] !== []) {
    arsort($totals['warnings']);
    echo "  PHP warnings/notices/deprecations seen (not failures):\n";
    foreach (array_slice($totals['warnings'], 0, 8, true) as $w => $c) {
        printf("    %8d  %s\n", $c, $w);
    }
}
foreach (array_keys($totals['notes']) as $n) {
    echo "  note: $n\n";
}
$problems = $crashes;
foreach ($totals['violations'] as $what => $v) {
    $problems[] = "{$v['n']} x $what; e.g. {$v['example']}";
}
foreach (array_slice($problems, 0, 20) as $p) {
    echo "  PROBLEM: $p\n";
}
$expected = $calls;
if ($totals['calls'] < $expected && $crashes === []) {
    $problems[] = "only {$totals['calls']} of $expected calls made";
}
$top = array_slice($totals['outcomes'], 0, 6, true);
$undocumented = array_sum(array_column($totals['violations'], 'n'));
$fig = sprintf('%d calls to %d entry points in %.0f s (seed %d), %d of them exit() in a callback (forked child): %s; %d undocumented exceptions (%d kinds), %d crashes/hangs',
    $totals['calls'], $methods, $wall, $seed, $totals['exit_children'],
    implode(', ', array_map(fn ($k, $v) => "$k $v", array_keys($top), $top)),
    $undocumented, count($totals['violations']), count($crashes));
rel_result('fuzz-php-api', $problems === [], $fig, implode('; ', array_slice($problems, 0, 3)));
exit($problems === [] ? 0 : 1);
