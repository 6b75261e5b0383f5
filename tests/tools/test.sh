#!/usr/bin/env bash
# The whole test suite (make test): lint, fuzz crate lint, Rust tests, alert rules, PHPUnit, phpt.
# Expects REDIS_URL (tests/tools/with-redis.sh sets it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --release -q -- -D warnings
echo "== fuzz/ builds and passes clippy (outside the workspace; make reliability runs it)"
(cd fuzz && cargo clippy --release -q --no-default-features --lib --bin props --target-dir "$root/target/fuzz-stable" -- -D warnings)
echo "== cargo test (core, real redis at $REDIS_URL)"
cargo test --workspace --release -q 2>&1 | grep -v '^$'

echo "== promtool: contrib/prometheus/alerts.yml (check rules, test rules), contrib/grafana/dashboard.json queries"
promtool check rules contrib/prometheus/alerts.yml
promtool test rules contrib/prometheus/tests/*.yml
php tests/tools/dashboard-rules.php contrib/grafana/dashboard.json > target/dashboard-rules.yml
promtool check rules target/dashboard-rules.yml

export PHP_INI_SCAN_DIR
PHP_INI_SCAN_DIR=$(tests/tools/php-ini.sh)
echo "== phpunit"
phpunit -c tests/phpunit/phpunit.xml

echo "== phpt"
unset PHP_INI_SCAN_DIR
export TEST_PHP_EXECUTABLE
TEST_PHP_EXECUTABLE=$(command -v php)
php /usr/lib/php/20220829/build/run-tests.php -q --show-diff \
  -p "$TEST_PHP_EXECUTABLE" \
  -d "extension=$root/target/release/libmonei_concurrency.so" \
  -d "monei_concurrency.redis_url=$REDIS_URL" \
  tests/phpt | tee target/phpt.log
grep -q "^Tests failed *: *0" target/phpt.log
