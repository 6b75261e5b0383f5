<?php

declare(strict_types=1);

/*
 * Reads the memcheck logs of valgrind.sh and reports:
 *   valgrind-memcheck  invalid reads/writes/frees, uninitialised values,
 *                      crashes: must be zero, in every process (forks included)
 *   valgrind-leaks     definite leaks left after valgrind.supp (PHP's own leaks)
 *                      in the main and exec'd php processes: must be zero;
 *                      those with extension frames are listed as extension leaks
 *
 *   php valgrind-report.php <work dir> <phpunit exit code>
 */

require __DIR__ . '/lib.php';

[, $work, $phpunitRc] = $argv + [null, null, '0'];
$logs = [];
foreach (glob("$work/logs/vg.*.log") ?: [] as $f) {
    // (Suppression templates from --gen-suppressions, if any, are not records.)
    $t = (string) preg_replace('/^\{\n.*?^\}\n/ms', "==0== \n", (string) file_get_contents($f));
    if (!preg_match('/==(\d+)== Command: (.*)/', $t, $m)) {
        continue;
    }
    preg_match('/Parent PID: (\d+)/', $t, $pp);
    $logs[(int) $m[1]] = ['ppid' => (int) ($pp[1] ?? 0), 'cmd' => $m[2], 'text' => $t];
}
// main = the phpunit process; fork = same command line as its parent (pcntl_fork); exec = a new php.
$kind = [];
foreach ($logs as $pid => $l) {
    $parent = $logs[$l['ppid']] ?? null;
    $kind[$pid] = $parent === null ? 'main' : ($parent['cmd'] === $l['cmd'] ? 'fork' : 'exec');
}

$memErrors = [];
$crashes = [];
$leaks = ['ext' => [], 'php' => []];
$extBytes = 0;
$leakWhere = ['ext' => [], 'php' => []];
$suppressed = [];
$procs = ['main' => 0, 'fork' => 0, 'exec' => 0];
foreach ($logs as $pid => $l) {
    $procs[$kind[$pid]]++;
    foreach (preg_split('/\n==\d+== \n/', $l['text']) as $block) {
        $block = preg_replace('/^==\d+== /m', '', $block);
        $first = (string) strtok(ltrim($block), "\n");
        if (preg_match('/^(Invalid (read|write|free)|Mismatched free|Conditional jump or move depends on uninitialised|Use of uninitialised|Syscall param .* (uninitialised|unaddressable)|Source and destination overlap|Argument .* of function .* has a fishy)/', $first)) {
            $memErrors[] = "pid $pid ({$kind[$pid]}): " . substr(preg_replace('/\s+/', ' ', $block), 0, 600);
        }
        if (preg_match('/^Process terminating with default action of signal (\d+)/', $first, $sm) && (int) $sm[1] !== 9) {
            $crashes[] = "pid $pid ({$kind[$pid]}): " . substr(preg_replace('/\s+/', ' ', $block), 0, 600);
        }
        if (str_contains($first, 'definitely lost in loss record') && $kind[$pid] !== 'fork') {
            preg_match('/^([\d,]+)/', $first, $bm);
            $frames = [];
            preg_match_all('/(?:at|by) 0x[0-9A-F]+: (.*)/', $block, $fm);
            foreach ($fm[1] as $fr) {
                $frames[] = trim(preg_replace('/\(in .*?\)|\(.*?:\d+\)/', '', $fr));
            }
            $isExt = (bool) preg_grep('/monei_concurrency|ext_php_rs/', $frames);
            $sig = implode(' <- ', array_slice(array_filter($frames, fn ($f) => !in_array($f, ['malloc', 'realloc', 'calloc'], true)), 0, 4));
            $bytes = (int) str_replace(',', '', $bm[1] ?? '0');
            $leaks[$isExt ? 'ext' : 'php'][$sig] = ($leaks[$isExt ? 'ext' : 'php'][$sig] ?? 0) + 1;
            // The child php scripts of RequestEndTest end their command line with the scenario.
            $where = $kind[$pid] === 'main' ? 'phpunit' : trim(str_replace('\\ ', ' ', (string) preg_replace('/^.*\.php\s+\S+\s+\S+\s*/', '', $l['cmd'])));
            $leakWhere[$isExt ? 'ext' : 'php'][$where ?: 'php child'] = true;
            if ($isExt) {
                $extBytes += $bytes;
            }
        }
    }
    if ($kind[$pid] !== 'fork' && preg_match_all('/used_suppression:\s+(\d+)\s+(.+?) \S+:\d+/', $l['text'], $um, PREG_SET_ORDER)) {
        foreach ($um as $u) {
            $name = (string) strtok(trim($u[2]), ":");
            $suppressed[$name] = ($suppressed[$name] ?? 0) + (int) $u[1];
        }
    }
}

// Logs of forked children without memory errors only hold leak noise: drop them.
foreach ($logs as $pid => $l) {
    if ($kind[$pid] === 'fork' && !preg_match('/^==\d+== (Invalid|Mismatched|Conditional jump|Use of uninit|Syscall param|Process terminating)/m', $l['text'])) {
        @unlink("$work/logs/vg.$pid.log");
    }
}

// Which processes had extension leaks (the php child's scenario names it).
$tests = 0;
$failures = 0;
if (is_file("$work/junit.xml")) {
    $x = @simplexml_load_file("$work/junit.xml");
    if ($x !== false) {
        $tests = (int) $x->testsuite['tests'];
        $failures = (int) $x->testsuite['failures'] + (int) $x->testsuite['errors'];
    }
}
$failedTests = [];
if ($failures > 0 && isset($x) && $x !== false) {
    foreach ($x->xpath('//testcase[failure or error]') as $tc) {
        $failedTests[] = $tc['class'] . '::' . $tc['name'];
    }
}

printf("  processes under memcheck: %d phpunit, %d exec'd php children, %d forked children (forks: errors checked, leaks not: they end by SIGKILL)\n",
    $procs['main'], $procs['exec'], $procs['fork']);
foreach ($memErrors as $e) {
    echo "  MEMORY ERROR $e\n";
}
foreach ($crashes as $e) {
    echo "  CRASH $e\n";
}
foreach ($leaks['ext'] as $sig => $n) {
    echo "  EXTENSION LEAK x$n: $sig\n";
}
if ($leakWhere['ext'] !== []) {
    echo '  extension leaks seen in: ' . implode(', ', array_keys($leakWhere['ext'])) . "\n";
}
foreach ($leaks['php'] as $sig => $n) {
    echo "  UNSUPPRESSED PHP LEAK x$n: $sig\n";
}
arsort($suppressed);
echo '  suppressed in phpunit + exec\'d php processes (PHP\'s own, valgrind.supp): ' . ($suppressed === [] ? 'none' : implode(', ', array_map(fn ($k, $v) => "$k x$v", array_keys($suppressed), $suppressed))) . "\n";
foreach ($failedTests as $t) {
    echo "  test failed under valgrind: $t\n";
}

$ok1 = $memErrors === [] && $crashes === [] && $tests > 0;
rel_result('valgrind-memcheck', $ok1, sprintf('%d PHPUnit tests (subset) under memcheck in %d processes: %d invalid reads/writes/frees or uninitialised uses, %d crashes; %d tests failed under valgrind%s',
    $tests, array_sum($procs), count($memErrors), count($crashes), $failures, $failures ? ' (' . implode(', ', array_slice($failedTests, 0, 3)) . ')' : ''),
    $tests === 0 ? 'phpunit did not run (exit code ' . $phpunitRc . ')' : implode('; ', array_slice(array_merge($memErrors, $crashes), 0, 2)));
$extCount = array_sum($leaks['ext']);
$phpCount = array_sum($leaks['php']);
rel_result('valgrind-leaks', $extCount === 0 && $phpCount === 0, sprintf('definite leaks in phpunit + exec\'d php processes: %d from the extension (%d bytes), %d unsuppressed from PHP; %d PHP-own leak records suppressed',
    $extCount, $extBytes, $phpCount, array_sum($suppressed)),
    $extCount ? 'EXTENSION (in: ' . implode(', ', array_keys($leakWhere['ext'])) . '): Rust memory leaked when a request ends by zend_bailout() (fatal error / max_execution_time) inside a callback: the longjmp skips the destructors of the Rust frames between the PHP callback and the method entry (' . implode('; ', array_slice(array_keys($leaks['ext']), 0, 3)) . ')' : '');
exit($ok1 && $extCount === 0 && $phpCount === 0 ? 0 : 1);
