#!/usr/bin/env bash
# `make bench`: benchmarks of monei_concurrency against the PHP locks people
# use today and the locks Magento stores run, with the speed targets. Starts
# its own redis-server on a free loopback port and a throwaway MariaDB on a
# unix socket and a loopback port (tests/tools/with-mariadb.sh; MARIADB_SOCKET
# and MARIADB_PORT use an existing one), runs bench/bench.php, writes bench/results.md and
# bench/wait-times.png. Exits non-zero if a target FAILs.
# BENCH_QUICK=1 bench/run.sh: a reduced run, to try it out.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${MARIADB_SOCKET:-}" ]; then
  MARIADB_TCP=1 exec "$root/tests/tools/with-mariadb.sh" "$0" "$@"
fi
ext="$root/target/release/libmonei_concurrency.so"
[ -f "$ext" ] || { echo "bench: $ext not built (run make bench)" >&2; exit 2; }
php -r 'exit(extension_loaded("redis") && extension_loaded("pdo_mysql") && extension_loaded("curl") && function_exists("pcntl_fork") ? 0 : 1);' \
  || { echo "bench: php needs the redis, pdo_mysql, curl and pcntl extensions" >&2; exit 2; }

# Scenario 6's measurement of the metrics adds alone (core/examples/metrics_cost.rs).
cargo build --release -q --example metrics_cost -p monei_concurrency_core --manifest-path "$root/Cargo.toml"
metrics_cost="$root/target/release/examples/metrics_cost"

dir=$(mktemp -d)
cleanup() {
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
  --maxmemory-policy noeviction >/dev/null
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done

mkdir "$dir/data"
rc=0
BENCH_METRICS_COST=$metrics_cost BENCH_REDIS_PORT=$port BENCH_EXT=$ext BENCH_DATA="$dir/data" BENCH_MARIADB_SOCKET=$MARIADB_SOCKET BENCH_MARIADB_PORT=${MARIADB_PORT:-} php "$root/bench/bench.php" || rc=$?
if [ "$rc" -le 1 ]; then
  gnuplot -e "datadir='$dir/data'; out='$root/bench/wait-times.png'" "$root/bench/wait-times.gp"
  echo "Wrote bench/results.md and bench/wait-times.png"
fi
exit "$rc"
