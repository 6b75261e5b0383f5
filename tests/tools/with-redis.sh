#!/usr/bin/env bash
# Runs a command with REDIS_URL pointing at a throwaway redis-server on a free
# loopback port, stopped afterwards. An existing REDIS_URL is used as is.
set -euo pipefail

if [ -n "${REDIS_URL:-}" ]; then
  exec "$@"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
  --maxmemory-policy noeviction >/dev/null
cleanup() {
  local pid
  if [ -f "$dir/redis.pid" ]; then
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    # Until it is gone: a server still shutting down writes into $dir.
    for _ in $(seq 250); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.02
    done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
export REDIS_URL="redis://127.0.0.1:$port"
"$@"
