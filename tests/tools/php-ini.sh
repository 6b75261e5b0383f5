#!/usr/bin/env bash
# Prints a PHP_INI_SCAN_DIR that loads the freshly built extension by absolute
# path (plus Debian's usual CLI extensions), so child processes such as
# PHPUnit's separate-process tests load it too.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/target/php-ini"
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
