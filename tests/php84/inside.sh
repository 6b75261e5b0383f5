#!/usr/bin/env bash
# Runs inside the Debian 13 chroot of tests/php84/run.sh, under
# tests/tools/with-redis.sh: builds the extension against PHP 8.4 and runs the
# phpt and PHPUnit suites. Exit 0 if both pass, 1 otherwise.
set -uo pipefail
cd "$ROOT"
out="$ROOT/target/php84"
mkdir -p "$out"
ext="$out/release/libmonei_concurrency.so"

php_version=$(php -r 'echo PHP_VERSION;')
echo "php84: building against PHP $php_version ($(php-config --extension-dir))"
if ! cargo build --release -q --target-dir "$out" -p monei_concurrency > "$out/build.log" 2>&1; then
  tail -n 20 "$out/build.log"
  echo "php84: FAIL build against PHP $php_version"
  exit 1
fi

url=${REDIS_URL:?run through tests/tools/with-redis.sh}

# The CLI of PHPUnit and of its separate-process tests loads the 8.4 build.
ini=$(MONEI_EXT="$ext" tests/tools/php-ini.sh)

status=0
TEST_PHP_EXECUTABLE=$(command -v php) php "$(php-config --extension-dir)/build/run-tests.php" -q --show-diff \
  -p "$(command -v php)" -d "extension=$ext" -d "monei_concurrency.redis_url=$url" \
  tests/phpt > "$out/phpt.log" 2>&1
phpt_passed=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$out/phpt.log")
phpt_failed=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$out/phpt.log")
if [ "${phpt_failed:-x}" != 0 ] || [ -z "$phpt_passed" ]; then
  grep -E '^FAIL|^Tests' "$out/phpt.log"
  status=1
fi

# Debian 13's PHPUnit is 11. The suite runs there as it is: each data
# provider is declared twice, as the attribute PHPUnit 11 reads and the
# annotation Debian 12's PHPUnit 9.6 reads. Anything short of a plain
# "OK (...)" fails: a failure, error, warning, risky test, or a deprecation,
# PHP's own (raised by the extension or the PHP code shipped with it) or
# PHPUnit's (metadata it will stop reading).
PHP_INI_SCAN_DIR="$ini" phpunit -c tests/phpunit/phpunit.xml \
  --display-deprecations --display-phpunit-deprecations > "$out/phpunit.log" 2>&1
phpunit_rc=$?
phpunit_line=$(grep -E '^(OK|Tests:)' "$out/phpunit.log" | tail -n 1)
if [ "$phpunit_rc" -ne 0 ] || [[ "$phpunit_line" != "OK ("* ]]; then
  tail -n 40 "$out/phpunit.log"
  status=1
fi

result=PASS
[ $status -eq 0 ] || result=FAIL
echo "php84: $result PHP $php_version: phpt ${phpt_passed:-?} passed, ${phpt_failed:-?} failed; PHPUnit ${phpunit_line:-no summary} (exit $phpunit_rc)"
exit $status
