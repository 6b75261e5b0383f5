<?php

declare(strict_types=1);

/*
 * Prints every query of a Grafana dashboard as a Prometheus recording rule
 * (JSON, which is YAML), so `promtool check rules` can tell whether each one
 * is valid PromQL. make test (tests/tools/test.sh) runs it on
 * contrib/grafana/dashboard.json.
 *
 *   php tests/tools/dashboard-rules.php DASHBOARD.json > rules.yml
 */

$file = $argv[1] ?? '';
$dash = json_decode((string) @file_get_contents($file), true);
if (!is_array($dash) || !is_array($dash['panels'] ?? null)) {
    fwrite(STDERR, "dashboard-rules.php: $file is not a Grafana dashboard (JSON with panels)\n");
    exit(2);
}
$rules = [];
foreach ($dash['panels'] as $panel) {
    foreach ($panel['targets'] ?? [] as $target) {
        $rules[] = ['record' => 'dashboard:query_' . count($rules), 'expr' => (string) ($target['expr'] ?? '')];
    }
}
if ($rules === []) {
    fwrite(STDERR, "dashboard-rules.php: $file has no queries\n");
    exit(2);
}
echo json_encode(['groups' => [['name' => 'dashboard', 'rules' => $rules]]], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
