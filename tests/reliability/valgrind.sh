#!/usr/bin/env bash
# Memory safety: a representative subset of the PHPUnit suite under
# valgrind memcheck (USE_ZEND_ALLOC=0), child php processes traced too.
#
#   tests/reliability/valgrind.sh <work dir>      (REDIS_URL must point at a throwaway server)
#
# The subset: every test class that exercises the extension's code paths
# without depending on wall-clock timing (valgrind is 20-50x slower), i.e.
# bad input, callbacks and exceptions, fencing, the Lease API, re-entrancy,
# IdempotencyStore, PaymentStateMachine, WebhookSignature, fail-closed,
# ops (locks/stats/logger/holder), request-end release in child php processes
# (exit, fatal error, max_execution_time, uncaught exception...) and fork
# safety. Left out: the data set "memory exhausted in callback" (memory_limit
# is not enforced with USE_ZEND_ALLOC=0, so it would never end) and the
# timing-bound classes (MutualExclusion, Waiting, LeaseTtl, Ownership, OpsCli,
# Ini, Stubs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
: "${REDIS_URL:?REDIS_URL must be set}"
mkdir -p "$work/ini" "$work/logs"
rm -f "$work"/ini/*.ini "$work"/logs/*
for f in /etc/php/8.2/cli/conf.d/*.ini; do
  case "$f" in *monei_concurrency*) continue ;; esac
  ln -sf "$f" "$work/ini/"
done
# pcre.jit=0: PCRE's JIT code reads 16 bytes at a time past string ends on
# purpose, which memcheck cannot tell from a bug.
printf 'extension=%s\nmonei_concurrency.redis_url=%s\npcre.jit=0\n' \
  "$root/target/release/libmonei_concurrency.so" "$REDIS_URL" > "$work/ini/90-monei_concurrency.ini"

classes='BadInputTest|CallbackExceptionTest|FencingTest|LeaseApiTest|ReentrancyTest|IdempotencyStoreTest|PaymentStateMachineTest|PaymentStateMachineNonUtf8StatusTest|WebhookSignatureTest|WebhookSignatureTimestampTextTest|FailClosedTest|OpsLocksListTest|OpsStatsTest|OpsLoggerTest|OpsHolderMetadataTest|RequestEndTest|ForkSafetyTest'
filter="/^(?!.*memory exhausted)Monei\\\\Concurrency\\\\Tests\\\\($classes)::/"

cd "$root"
set +e
PHP_INI_SCAN_DIR="$work/ini" USE_ZEND_ALLOC=0 ZEND_DONT_UNLOAD_MODULES=1 \
  valgrind --tool=memcheck --trace-children=yes \
    --trace-children-skip='*redis-server*,*gdb*,/bin/sh,/usr/bin/sh,*/bash' \
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --suppressions="$root/tests/reliability/valgrind.supp" -s \
    --num-callers=40 --log-file="$work/logs/vg.%p.log" \
    php /usr/bin/phpunit -c tests/phpunit/phpunit.xml --filter "$filter" \
      --log-junit "$work/junit.xml" > "$work/phpunit.out" 2>&1
rc=$?
set -e
tail -n 3 "$work/phpunit.out" | sed 's/^/  phpunit: /'
php "$root/tests/reliability/valgrind-report.php" "$work" "$rc"
