#!/usr/bin/env bash
# Prints a PHP_INI_SCAN_DIR that loads the freshly built extension by absolute
# path (plus the usual CLI extensions of the `php` on PATH), so child processes
# such as PHPUnit's separate-process tests load it too. One directory per PHP
# version and Redis port, so runs side by side never point each other at the
# wrong build or server.
#   MONEI_EXT  the extension to load (default target/release/libmonei_concurrency.so)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ext=${MONEI_EXT:-$root/target/release/libmonei_concurrency.so}
port=$(printf '%s' "${REDIS_URL:-none}" | sed -E 's#.*:([0-9]+)(/.*)?$#\1#; s#[^A-Za-z0-9]#_#g')
scan=$(php -r 'echo PHP_CONFIG_FILE_SCAN_DIR;')
dir="$root/target/php-ini/$(php -r 'echo PHP_MAJOR_VERSION . PHP_MINOR_VERSION;')-$port"
mkdir -p "$dir"
rm -f "$dir"/*.ini
for f in "$scan"/*.ini; do
  case "$f" in *monei_concurrency*) continue ;; esac
  ln -sf "$f" "$dir/"
done
{
  echo "extension=$ext"
  [ -n "${REDIS_URL:-}" ] && echo "monei_concurrency.redis_url=$REDIS_URL"
} > "$dir/90-monei_concurrency.ini"
echo "$dir"
