#!/usr/bin/env bash
# make dist: the PECL source tarball and PIE's pre-built binaries, in dist/:
#   monei_concurrency-<version>.tgz                                  (packaging/pecl.sh)
#   php_monei_concurrency-<version>_php8.2-x86_64-linux-glibc-nts.tgz  built here (Debian 12)
#   php_monei_concurrency-<version>_php8.4-x86_64-linux-glibc-nts.tgz  built in the Debian 13
#                                         chroot of tests/php84 (tests/tools/chroot.sh)
# Both binaries are built from the tarball, offline, the way pecl and PIE
# build it (packaging/pie-binary.sh). Needs root for the chroot.
# The build directories stay in target/dist-build/ so a rebuild is quick.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$root/target/dist-build
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
say() { printf '[%s] dist: %s\n' "$(date +%H:%M:%S)" "$*"; }

t0=$(date +%s)
tarball=$(packaging/pecl.sh | tail -n 1)
say "PECL tarball $(basename "$tarball") in $(( $(date +%s) - t0 )) s"

t0=$(date +%s)
packaging/pie-binary.sh "$tarball" dist "$work"
say "PHP $(php-config --version | cut -d. -f1,2) binary in $(( $(date +%s) - t0 )) s"

t0=$(date +%s)
. tests/tools/chroot.sh
chroot_ensure "$MONEI_TRIXIE_DIR" trixie "$MONEI_TRIXIE_PACKAGES"
trap chroot_unmount_all EXIT
chroot_bind "$MONEI_TRIXIE_DIR" /proc /sys /dev /dev/pts "$cargo_home" "$rustup_home" "$root"
env -i HOME="$HOME" RUSTUP_HOME="$rustup_home" PATH="$cargo_home/bin:/usr/local/bin:/usr/bin:/bin" \
  "$(command -v chroot)" "$MONEI_TRIXIE_DIR" "$root/packaging/pie-binary.sh" "$tarball" "$root/dist" "$work"
chroot_unmount_all
say "PHP 8.4 binary (Debian 13 chroot) in $(( $(date +%s) - t0 )) s"
echo "dist: PASS $(cd dist && for f in monei_concurrency-*.tgz php_monei_concurrency-*.tgz; do printf '%s (%s) ' "$f" "$(du -h "$f" | cut -f1)"; done)"
