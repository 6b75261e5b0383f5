#!/usr/bin/env bash
# Prints a PHP_INI_SCAN_DIR that loads the freshly built extension by absolute
# path (plus Debian's usual CLI extensions), so child processes such as
# PHPUnit's separate-process tests load it too. One directory per Redis port,
# so runs side by side never point each other at the wrong server.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
port=$(printf '%s' "${REDIS_URL:-none}" | sed -E 's#.*:([0-9]+)(/.*)?$#\1#; s#[^A-Za-z0-9]#_#g')
dir="$root/target/php-ini/$port"
mkdir -p "$dir"
rm -f "$dir"/*.ini
for f in /etc/php/8.2/cli/conf.d/*.ini; do
  case "$f" in *monei_concurrency*) continue ;; esac
  ln -sf "$f" "$dir/"
done
{
  echo "extension=$root/target/release/libmonei_concurrency.so"
  [ -n "${REDIS_URL:-}" ] && echo "monei_concurrency.redis_url=$REDIS_URL"
} > "$dir/90-monei_concurrency.ini"
echo "$dir"
