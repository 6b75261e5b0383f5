#!/usr/bin/env bash
# make packages: the Debian packages, from the modules of make dist's PIE
# archives (built against Debian 12's PHP 8.2 and Debian 13's PHP 8.4):
#   dist/php8.2-monei-concurrency_<version>-1_amd64.deb   (bookworm)
#   dist/php8.4-monei-concurrency_<version>-1_amd64.deb   (trixie)
# and lintian on each: any error (E:) fails. Warnings are printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
summary=""
for pair in 8.2:bookworm 8.4:trixie; do
  php=${pair%%:*}
  suite=${pair#*:}
  archive=dist/php_monei_concurrency-${version}_php${php}-x86_64-linux-glibc-nts.tgz
  [ -f "$archive" ] || { echo "packages.sh: $archive missing: run make dist" >&2; exit 1; }
  mkdir -p "$tmp/$php"
  tar -xzf "$archive" -C "$tmp/$php"
  (cd "$tmp/$php" && sha256sum -c --quiet monei_concurrency.so.sha256)
  deb=$(packaging/deb.sh "$tmp/$php/monei_concurrency.so" "$php" "$suite" dist | tail -n 1)
  lintian --tag-display-limit 0 "$deb" > "$tmp/lintian-$php.log" 2>&1 || true
  errors=$(grep -c '^E: ' "$tmp/lintian-$php.log" || true)
  warnings=$(grep -c '^W: ' "$tmp/lintian-$php.log" || true)
  echo "packages.sh: $(basename "$deb") $(du -h "$deb" | cut -f1), lintian: $errors error(s), $warnings warning(s)"
  grep -E '^[A-Z]: ' "$tmp/lintian-$php.log" | sed 's/^/  /' || true
  [ "$errors" -eq 0 ] || status=1
  summary="$summary$(basename "$deb") ($(du -h "$deb" | cut -f1), lintian $errors E / $warnings W) "
done
if [ $status -eq 0 ]; then echo "packages: PASS $summary"; else echo "packages: FAIL $summary"; fi
exit $status
