#!/usr/bin/env bash
# make reliability: the extension under load and faults, fuzzed, under valgrind.
#
#   tests/reliability/run.sh            (after tests/tools/deps.sh reliability; installs nothing)
#
# Phase 1, alone on the machine (its checks measure time):
#   e2e.php      PHP-FPM (static, 8 workers) + nginx + the webhook app of tests/e2e,
#                2,000 signed webhooks + redirects; faults under load: request end
#                by exit/fatal/timeout, FPM worker SIGKILL, Redis SIGSTOP, Redis
#                SIGKILL + restart, pm.max_requests recycling; then the metrics endpoint
#                (php/metrics/metrics.php behind the contrib/nginx allow-list) scraped
#                every 1 s by a real Prometheus (loopback, data under the work dir,
#                contrib/prometheus/alerts.yml loaded) during a load with
#                pm.max_requests = 20: the scraped acquired_total must equal the lock
#                acquisitions the app counted, with no counter reset.
# Phase 2, in parallel (no time-bound assertions):
#   valgrind.sh  PHPUnit subset under memcheck
#   rss.php      1,000,000 lock cycles, VmRSS before/after
#   fuzz.php     100,000 random API calls in child processes, then
#   cargo-fuzz.sh  stable property runner (60 s) and, with nightly, libFuzzer targets
# Phase 3:
#   tests/php84/run.sh  the extension built against PHP 8.4 in a Debian 13
#                chroot (made once with debootstrap), phpt and PHPUnit there
# Phase 4, the install paths (tests/packaging/; chroots in /var/cache/monei-concurrency/):
#   packaging/dist.sh     make dist: PECL tarball, PIE binaries for PHP 8.2 and 8.4
#   pie-binaries.sh       their names, checksums, each loads in its PHP
#   pecl-install.sh       pecl install of the tarball on a scratch Debian 12, lock cycle
#   phpize.sh             phpize && configure && make && make install from a fresh
#                         copy; configure's refusals; clean restores the tree
#   packaging/packages.sh make packages: the .debs, lintian without errors
#   deb-chroot.sh         each .deb in a clean Debian 12 / 13: apt install, php-fpm
#                         FastCGI lock cycle, remove, purge, upgrade over an edited ini
# Every check prints its figures; a summary table at the end; exit 1 on any FAIL.
# Each part starts its own redis-server on a free loopback port; every process
# started here is stopped on exit (by pid).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
t0=$(date +%s)
work=$(mktemp -d /tmp/monei-reliability.XXXXXX)
export RELIABILITY_RESULTS="$work/results.tsv"
: > "$RELIABILITY_RESULTS"
jobs_started=()

cleanup() {
  local pid f
  for pid in "${jobs_started[@]}"; do
    kill -- "$pid" 2>/dev/null || true     # "-<id>": the job's own process group
  done
  # Processes started by e2e.php (pids written by tests/e2e/Stack.php) and our redis servers.
  for f in "$work"/e2e/pids/*.pid "$work"/redis-*/redis.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -CONT "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  sleep 0.5
  for f in "$work"/e2e/pids/*.pid "$work"/redis-*/redis.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  if [ "${keep_work:-0}" = 1 ]; then
    echo "logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
result() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RELIABILITY_RESULTS"; }

# ---- prerequisites -----------------------------------------------------------
missing=()
for c in php php-fpm8.2 nginx redis-server redis-cli valgrind phpunit cargo debootstrap pecl lintian prometheus; do
  command -v "$c" >/dev/null || missing+=("$c")
done
php_modules=$(php -m)
for m in curl pdo_sqlite pcntl posix; do
  grep -qx "$m" <<< "$php_modules" || missing+=("php:$m")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: missing ${missing[*]}: run tests/tools/deps.sh reliability (make reliability does)" >&2
  exit 2
fi
say "building the extension (cargo build --release)"
cargo build --release -q || { echo "run.sh: build failed" >&2; exit 2; }
ext="$root/target/release/libmonei_concurrency.so"

# The CLI loads the freshly built extension (plus Debian's usual CLI extensions).
mkdir -p "$work/cli.d"
for f in /etc/php/8.2/cli/conf.d/*.ini; do
  case "$f" in *monei_concurrency*) continue ;; esac
  ln -sf "$f" "$work/cli.d/"
done
echo "extension=$ext" > "$work/cli.d/90-monei_concurrency.ini"
export PHP_INI_SCAN_DIR="$work/cli.d"

# A throwaway redis-server on a free loopback port; prints the port.
start_redis() {
  local name=$1 dir="$work/redis-$1" port
  mkdir -p "$dir"
  port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --maxmemory-policy noeviction --databases 16 >/dev/null
  for _ in $(seq 200); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  echo "$port"
}

# ---- phase 1: end to end under PHP-FPM, faults ------------------------------
say "phase 1: end to end under PHP-FPM + nginx, with faults (alone on the machine)"
php "$root/tests/reliability/e2e.php" --dir "$work/e2e" 2>&1 | tee "$work/e2e.log"
if ! grep -q 'e2e-baseline' "$RELIABILITY_RESULTS"; then
  result e2e-baseline FAIL "e2e.php did not finish" "$(tail -n 3 "$work/e2e.log" | tr '\n' ' ')"
fi
for check in metrics-endpoint prometheus-scrape; do
  grep -q "^$check"$'\t' "$RELIABILITY_RESULTS" || result "$check" FAIL "e2e.php did not get to it" "$(tail -n 3 "$work/e2e.log" | tr '\n' ' ')"
done
for f in "$work"/e2e/pids/*.pid; do
  [ -f "$f" ] && result e2e-cleanup FAIL "process $(cat "$f") ($(basename "$f" .pid)) still running after e2e.php" ""
done

# ---- phase 2: in parallel ------------------------------------------------------
say "phase 2: valgrind | RSS over 1,000,000 lock cycles | API fuzzing, then Rust fuzzing (in parallel)"
# Each job runs in its own session (setsid), so cleanup can stop it with all its children by its id.
bg() { # log file, command...
  local log=$1
  shift
  setsid "$@" > "$log" 2>&1 &
  jobs_started+=("-$!")
  last_job=$!
}
vg_port=$(start_redis valgrind)
bg "$work/valgrind.log" env REDIS_URL="redis://127.0.0.1:$vg_port" "$root/tests/reliability/valgrind.sh" "$work/valgrind"
vg_job=$last_job

rss_port=$(start_redis rss)
bg "$work/rss.log" php -d "monei_concurrency.redis_url=redis://127.0.0.1:$rss_port" "$root/tests/reliability/rss.php" --cycles 1000000
rss_job=$last_job

fz_port=$(start_redis fuzz)
bg "$work/fuzz.log" bash -c 'php "$1/tests/reliability/fuzz.php" --redis-url "redis://127.0.0.1:$2" --calls 100000 --batch 2500 --lanes 2
  "$1/tests/reliability/cargo-fuzz.sh" "$3/cargo-fuzz" 60 30' _ "$root" "$fz_port" "$work"
fz_job=$last_job

for j in "rss:$rss_job" "fuzz:$fz_job" "valgrind:$vg_job"; do
  name=${j%%:*}
  wait "${j#*:}"
  say "$name done"
  case $name in
    rss) cat "$work/rss.log" ;;
    fuzz) cat "$work/fuzz.log" ;;
    valgrind) cat "$work/valgrind.log" ;;
  esac
done
grep -q $'^rss-1m-lock-cycles\t' "$RELIABILITY_RESULTS" || result rss-1m-lock-cycles FAIL "rss.php did not finish" "$(tail -n 3 "$work/rss.log" | tr '\n' ' ')"
grep -q $'^fuzz-php-api\t' "$RELIABILITY_RESULTS" || result fuzz-php-api FAIL "fuzz.php did not finish" "$(tail -n 3 "$work/fuzz.log" | tr '\n' ' ')"
grep -q $'^fuzz-rust-props\t' "$RELIABILITY_RESULTS" || result fuzz-rust-props FAIL "cargo-fuzz.sh did not finish" "$(tail -n 3 "$work/fuzz.log" | tr '\n' ' ')"
grep -q $'^valgrind-memcheck\t' "$RELIABILITY_RESULTS" || result valgrind-memcheck FAIL "valgrind.sh did not finish" "$(tail -n 3 "$work/valgrind.log" | tr '\n' ' ')"

# ---- phase 3: PHP 8.4 ------------------------------------------------------------
say "phase 3: PHP 8.4 in a Debian 13 chroot (tests/php84/run.sh)"
"$root/tests/php84/run.sh" > "$work/php84.log" 2>&1
php84_rc=$?
cat "$work/php84.log"
php84_line=$(sed -n 's/^php84: \(PASS\|FAIL\) //p' "$work/php84.log" | tail -n 1)
if [ $php84_rc -eq 0 ]; then
  result php84 PASS "$php84_line" ""
else
  result php84 FAIL "${php84_line:-could not set up the chroot (exit $php84_rc)}" "$(tail -n 5 "$work/php84.log" | tr '\n' ' ')"
fi

# ---- phase 4: install paths -----------------------------------------------------
say "phase 4: make dist, PIE binaries, pecl install, phpize by hand, make packages, .debs in clean chroots"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
# Runs one packaging step; its last line (or the tail of its log) is the figure.
pkg_step() { # name, log, command...
  local name=$1 log="$work/$2" t0 rc line
  shift 2
  t0=$(date +%s)
  # The packaged builds load nothing of the dev build.
  env -u PHP_INI_SCAN_DIR "$@" > "$log" 2>&1
  rc=$?
  cat "$log"
  line=$(grep -E '^[a-z0-9. ]+: (PASS|FAIL)' "$log" | tail -n 1 | sed -E 's/^[a-z0-9. ]+: (PASS|FAIL) //')
  if [ $rc -eq 0 ]; then
    result "$name" PASS "${line:-done} [$(( $(date +%s) - t0 )) s]" ""
  else
    result "$name" FAIL "${line:-exit $rc} [$(( $(date +%s) - t0 )) s]" "$(tail -n 5 "$log" | tr '\n' ' ')"
  fi
  return $rc
}
if pkg_step make-dist dist.log "$root/packaging/dist.sh"; then
  pkg_step pie-binaries pie.log "$root/tests/packaging/pie-binaries.sh" "$root/dist"
  pkg_step pecl-install pecl.log "$root/tests/packaging/pecl-install.sh" \
    "$root/dist/monei_concurrency-$version.tgz" "$root/target/dist-build/php8.2/target"
  if pkg_step make-packages packages.log "$root/packaging/packages.sh"; then
    pkg_step deb-bookworm deb82.log "$root/tests/packaging/deb-chroot.sh" bookworm 8.2 \
      "$root/dist/php8.2-monei-concurrency_$version-1_amd64.deb"
    pkg_step deb-trixie deb84.log "$root/tests/packaging/deb-chroot.sh" trixie 8.4 \
      "$root/dist/php8.4-monei-concurrency_$version-1_amd64.deb"
  fi
fi
pkg_step phpize-flow phpize.log "$root/tests/packaging/phpize.sh"

# ---- summary -------------------------------------------------------------------
wall=$(( $(date +%s) - t0 ))
echo
echo "== make reliability: summary ($(date -u +%Y-%m-%dT%H:%MZ), wall time ${wall} s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-22s %-7s %s\n' "check" "result" "figures"
printf '%-22s %-7s %s\n' "-----" "------" "-------"
fails=0
while IFS=$'\t' read -r check status figures detail; do
  printf '%-22s %-7s %s\n' "$check" "$status" "$figures"
  if [ "$status" = FAIL ]; then
    fails=$((fails + 1))
    printf '%-22s %-7s -> %s\n' "" "" "${detail:0:900}"
  fi
done < "$RELIABILITY_RESULTS"
echo
if [ $fails -gt 0 ]; then
  echo "$fails check(s) FAILED (logs kept in $work)"
  keep_work=1
  exit 1
fi
echo "all checks passed"
