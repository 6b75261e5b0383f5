<?php

declare(strict_types=1);

/*
 * Shared helpers of the reliability checks: one result line per check,
 * appended to $RELIABILITY_RESULTS (tab-separated: check, PASS|FAIL, figures,
 * detail), which tests/reliability/run.sh turns into the summary table.
 */

function rel_result(string $check, bool $pass, string $figures, string $detail = ''): bool
{
    $line = implode("\t", [$check, $pass ? 'PASS' : 'FAIL', str_replace(["\t", "\n"], ' ', $figures),
        str_replace(["\t", "\n"], ' ', $detail)]) . "\n";
    $file = getenv('RELIABILITY_RESULTS');
    if ($file !== false && $file !== '') {
        file_put_contents($file, $line, FILE_APPEND | LOCK_EX);
    }
    printf("  [%s] %-28s %s%s\n", $pass ? 'PASS' : 'FAIL', $check, $figures, $detail !== '' ? "\n         $detail" : '');
    return $pass;
}

function rel_say(string $msg): void
{
    printf("[%s] %s\n", date('H:i:s'), $msg);
}

/** Percentile of a list of numbers (nearest rank). */
function rel_pct(array $values, float $p): float
{
    if ($values === []) {
        return 0.0;
    }
    sort($values);
    return (float) $values[(int) min(count($values) - 1, max(0, (int) ceil($p / 100 * count($values)) - 1))];
}

/** VmRSS of this process in KiB. */
function rel_rss_kib(?int $pid = null): int
{
    $status = (string) @file_get_contents('/proc/' . ($pid ?? getmypid()) . '/status');
    return preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m) ? (int) $m[1] : -1;
}
