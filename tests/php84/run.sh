#!/usr/bin/env bash
# The extension on PHP 8.4 (Magento 2.4.8's PHP): builds it against Debian 13's
# php8.4-dev in a Debian 13 chroot and runs the phpt and PHPUnit suites there
# against Debian 13's redis-server. Debian 12 ships PHP 8.2 only.
#
#   tests/php84/run.sh            (root; make reliability runs it)
#
# The chroot is made once with debootstrap and kept in $MONEI_PHP84_ROOT
# (default /var/cache/monei-concurrency/trixie; tests/tools/chroot.sh, which
# make dist shares to build the PHP 8.4 binary). The repository, the Rust
# toolchain ($CARGO_HOME, $RUSTUP_HOME) and /proc, /sys, /dev are bind-mounted
# into it for the run and unmounted on exit. A chroot is only ever deleted
# (a half-made one, before debootstrap tries again) when nothing is mounted
# inside it: a bind mount would take the repository with it. The suites run
# against the chroot's own redis-server and MariaDB (tests/tools/with-redis.sh,
# tests/tools/with-mariadb.sh).
# Prints one summary line; exit 0 when both suites pass, 1 when a test
# fails, 2 when the chroot cannot be set up.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}

fail_setup() {
  echo "php84: $*" >&2
  exit 2
}

[ "$(id -u)" -eq 0 ] || fail_setup "needs root (debootstrap, chroot, bind mounts)"
[ -x "$cargo_home/bin/cargo" ] || fail_setup "no rustup toolchain in $cargo_home (the chroot borrows it)"

. "$root/tests/tools/chroot.sh"
chroot_dir=$MONEI_TRIXIE_DIR
chroot_ensure "$chroot_dir" trixie "$MONEI_TRIXIE_PACKAGES" || exit 2
trap chroot_unmount_all EXIT
chroot_bind "$chroot_dir" /proc /sys /dev /dev/pts "$cargo_home" "$rustup_home" "$root" || exit 2
# Magento's XSDs, read by the Magento module tests from ../shared/magento-xsd.
if [ -d "$root/../shared/magento-xsd" ]; then
  chroot_bind "$chroot_dir" "$(cd "$root/../shared/magento-xsd" && pwd)" || exit 2
fi

chroot_bin=$(command -v chroot) || fail_setup "chroot missing"
env -i HOME="$HOME" CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" \
  PATH="$cargo_home/bin:/usr/local/bin:/usr/bin:/bin" ROOT="$root" \
  "$chroot_bin" "$chroot_dir" "$root/tests/tools/with-redis.sh" "$root/tests/tools/with-mariadb.sh" "$root/tests/php84/inside.sh"
