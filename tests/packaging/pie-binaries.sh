#!/usr/bin/env bash
# make dist's PIE archives: named the way PIE >= 1.4 looks for a
# pre-packaged binary (php_{ext}-{version}_php{X.Y}-{arch}-{os}-{libc}-nts.tgz),
# holding monei_concurrency.so and its sha256; the .so loads in the PHP it
# names (8.2 here, 8.4 in the Debian 13 chroot) and shows the version, and
# the PHP 8.4 one is refused by PHP 8.2 (a different module API).
#   tests/packaging/pie-binaries.sh DIST_DIR      (root, for the chroot)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dist=$(realpath "$1")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
work=$(mktemp -d /tmp/monei-pie.XXXXXX)
. "$root/tests/tools/chroot.sh"
trap 'chroot_unmount_all; rm -rf "$work"' EXIT
fail() { echo "pie: FAIL $*"; exit 1; }

found=()
for archive in "$dist"/php_monei_concurrency-*.tgz; do
  [ -f "$archive" ] || continue
  name=$(basename "$archive")
  [[ "$name" =~ ^php_monei_concurrency-${version//./\\.}_php(8\.[0-9]+)-x86_64-linux-glibc-nts\.tgz$ ]] \
    || fail "$name is not php_monei_concurrency-${version}_php<X.Y>-x86_64-linux-glibc-nts.tgz"
  php=${BASH_REMATCH[1]}
  [ "$(tar -tzf "$archive" | sort | tr '\n' ' ')" = "monei_concurrency.so monei_concurrency.so.sha256 " ] \
    || fail "$name holds $(tar -tzf "$archive" | tr '\n' ' ') instead of the .so and its checksum"
  mkdir -p "$work/$php"
  tar -xzf "$archive" -C "$work/$php"
  (cd "$work/$php" && sha256sum -c --quiet monei_concurrency.so.sha256) || fail "$name: checksum does not match"
  found+=("$php")
done
[ "${found[*]}" = "8.2 8.4" ] || fail "expected archives for PHP 8.2 and 8.4 in $dist, found: ${found[*]:-none}"

ri82=$(php8.2 -n -d "extension=$work/8.2/monei_concurrency.so" --ri monei_concurrency 2>&1)
grep -q "^version => $version\$" <<< "$ri82" || fail "PHP 8.2 does not load the 8.2 binary: $(head -n 3 <<< "$ri82")"
wrong=$(php8.2 -n -d "extension=$work/8.4/monei_concurrency.so" -r 'echo extension_loaded("monei_concurrency") ? "loaded" : "refused";' 2>&1)
[[ "$wrong" == *refused* && "$wrong" == *"API=20240924"* ]] || fail "PHP 8.2 did not refuse the PHP 8.4 binary: $wrong"

chroot_ensure "$MONEI_TRIXIE_DIR" trixie "$MONEI_TRIXIE_PACKAGES" || fail "no Debian 13 chroot"
chroot_bind "$MONEI_TRIXIE_DIR" "$work" || fail "bind mount"
ri84=$(chroot "$MONEI_TRIXIE_DIR" php8.4 -n -d "extension=$work/8.4/monei_concurrency.so" --ri monei_concurrency 2>&1)
grep -q "^version => $version\$" <<< "$ri84" || fail "PHP 8.4 does not load the 8.4 binary: $(head -n 3 <<< "$ri84")"
echo "pie: PASS $(cd "$dist" && ls php_monei_concurrency-*.tgz | tr '\n' ' ')load in PHP 8.2 and 8.4 and show $version; PHP 8.2 refuses the 8.4 one"
