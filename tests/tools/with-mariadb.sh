#!/usr/bin/env bash
# Runs a command with MARIADB_SOCKET pointing at a throwaway MariaDB server
# (Debian's mariadb-server binaries) listening on a unix socket in a fresh
# temporary directory, no TCP. The server runs as the calling user, InnoDB at
# REPEATABLE READ as Magento's MySQL/MariaDB; it is stopped and its directory
# deleted when the command ends, fails or is interrupted.
# An existing MARIADB_SOCKET is used as is. With MARIADB_TCP=1 the server also
# listens on a free loopback port, exported as MARIADB_PORT (make bench: the
# same transport as its redis-server).
set -euo pipefail

if [ -n "${MARIADB_SOCKET:-}" ]; then
  exec "$@"
fi

mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
install_db=$(command -v mariadb-install-db || command -v mysql_install_db || true)
if [ ! -x "$mariadbd" ] || [ -z "$install_db" ]; then
  echo "with-mariadb.sh: mariadb-server is not installed (tests/tools/deps.sh test installs it)" >&2
  exit 2
fi

user=$(id -un)
dir=$(mktemp -d /tmp/monei-mariadb.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    # Until it is gone: a server still shutting down writes into $dir.
    for _ in $(seq 500); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$install_db" --no-defaults --datadir="$dir/data" --user="$user" \
    --auth-root-authentication-method=normal --skip-test-db > "$dir/install.log" 2>&1; then
  tail -n 20 "$dir/install.log" >&2
  echo "with-mariadb.sh: $install_db failed" >&2
  exit 2
fi

net=(--skip-networking)
if [ "${MARIADB_TCP:-0}" = 1 ]; then
  MARIADB_PORT=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')
  export MARIADB_PORT
  net=(--port="$MARIADB_PORT" --bind-address=127.0.0.1)
fi

# innodb_snapshot_isolation (newer MariaDB) is kept off: MySQL's behaviour,
# where a write to a row changed since the snapshot is allowed.
"$mariadbd" --no-defaults --datadir="$dir/data" --user="$user" \
  --socket="$dir/mysqld.sock" "${net[@]}" --pid-file="$dir/mysqld.pid" \
  --log-error="$dir/error.log" --skip-log-bin --default-storage-engine=InnoDB \
  --transaction-isolation=REPEATABLE-READ --loose-innodb-snapshot-isolation=OFF \
  --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \
  --max-connections=200 --character-set-server=utf8mb4 > "$dir/stderr.log" 2>&1 &
pid=$!

for _ in $(seq 300); do
  [ -S "$dir/mysqld.sock" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ ! -S "$dir/mysqld.sock" ]; then
  tail -n 20 "$dir/error.log" >&2
  echo "with-mariadb.sh: mariadbd did not start" >&2
  exit 2
fi

export MARIADB_SOCKET="$dir/mysqld.sock"
set +e
"$@"
status=$?
set -e
exit $status
