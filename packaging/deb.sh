#!/usr/bin/env bash
# make packages: one Debian package of the extension for one PHP version,
# laid out like Debian's own php8.2-redis: the .so in /usr/lib/php/<PHP API>/,
# the ini as a conffile in /etc/php/<X.Y>/mods-available/, maintainer scripts
# that enable/disable it for every SAPI through php-maintscript-helper.
#   packaging/deb.sh SO PHP_VERSION SUITE OUT_DIR [REVISION]
# SO is the stripped module of make dist's PIE archive for that PHP version.
# Prints the .deb's path on the last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
so=$(realpath "$1")
php=$2
suite=$3
out=$(realpath -m "$4")
revision=${5:-1}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
case "$php" in # the phpapi-<n> each PHP version's SAPI packages provide
  8.2) api=20220829 ;;
  8.4) api=20240924 ;;
  *) echo "deb.sh: no PHP API number known for PHP $php" >&2; exit 1 ;;
esac
pkg=php$php-monei-concurrency
maintainer="monei_concurrency maintainers <maintainers@users.noreply.b-seed-6b187bab.example>"
# The release date: the commit's, so a rebuild gives the same package.
epoch=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$epoch

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
subst() { sed -e "s/@PHP_VERSION@/$php/g" -e "s/@VERSION@/$version/g" -e "s/@REVISION@/$revision/g" \
  -e "s/@SUITE@/$suite/g" -e "s/@DATE@/$(date -R -u -d "@$epoch")/g" "$1"; }

install -D -m 0644 "$so" "$tree/usr/lib/php/$api/monei_concurrency.so"
mkdir -p "$tree/etc/php/$php/mods-available"
subst "$root/packaging/debian/monei_concurrency.ini" > "$tree/etc/php/$php/mods-available/monei_concurrency.ini"
doc="$tree/usr/share/doc/$pkg"
install -D -m 0644 "$root/packaging/debian/copyright" "$doc/copyright"
subst "$root/packaging/debian/changelog" | gzip -9n > "$doc/changelog.Debian.gz"
gzip -9nc "$root/CHANGELOG.md" > "$doc/changelog.gz"   # upstream changelog, by policy name
find "$tree" -type d -exec chmod 0755 {} +
chmod 0644 "$tree/etc/php/$php/mods-available/monei_concurrency.ini" "$doc"/*

# Run-time libraries: libc6 at the newest glibc symbol version the module
# uses; libgcc-s1 when it links libgcc_s (Rust's unwinder).
glibc=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
libs="libc6 (>= $glibc)"
objdump -p "$so" | grep -q 'NEEDED *libgcc_s.so.1' && libs="$libs, libgcc-s1 (>= 4.2)"

mkdir -p "$tree/DEBIAN"
for s in preinst postinst prerm postrm; do
  [ -f "$root/packaging/debian/$s" ] || continue
  subst "$root/packaging/debian/$s" > "$tree/DEBIAN/$s"
  chmod 0755 "$tree/DEBIAN/$s"
done
echo "/etc/php/$php/mods-available/monei_concurrency.ini" > "$tree/DEBIAN/conffiles"
(cd "$tree" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$tree/DEBIAN/md5sums"
cat > "$tree/DEBIAN/control" <<CONTROL
Package: $pkg
Source: monei-concurrency
Version: $version-$revision
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$tree" | cut -f1)
Pre-Depends: php-common (>= 2:69~)
Depends: php$php-common, phpapi-$api, $libs
Suggests: redis-server
Provides: php-monei-concurrency
Section: php
Priority: optional
Description: Redis lease locks and idempotency for PHP $php (Magento 2 payments)
 monei_concurrency gives PHP atomic, re-entrant, lease-based Redis locks
 with fencing tokens, renewed while held and released when the request ends
 however it ends, plus exactly-once callbacks, a payment state machine and
 MONEI webhook signature checks. Written in Rust (ext-php-rs).
 .
 This package holds the module for PHP $php and enables it for every SAPI.
CONTROL
chmod 0644 "$tree/DEBIAN/control" "$tree/DEBIAN/conffiles" "$tree/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/${pkg}_${version}-${revision}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$tree" "$deb" > /dev/null
echo "deb.sh: $(du -h "$deb" | cut -f1) $deb"
echo "$deb"
