#!/usr/bin/env bash
# The extension on PHP 8.4 (Magento 2.4.8's PHP): builds it against Debian 13's
# php8.4-dev in a Debian 13 chroot and runs the phpt and PHPUnit suites there
# against Debian 13's redis-server. Debian 12 ships PHP 8.2 only.
#
#   tests/php84/run.sh            (root; make reliability runs it)
#
# The chroot is made once with debootstrap and kept in $MONEI_PHP84_ROOT
# (default /var/cache/monei-concurrency/trixie). The repository, the Rust
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
chroot_dir=${MONEI_PHP84_ROOT:-/var/cache/monei-concurrency/trixie}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
packages=php8.4-cli,php8.4-dev,php8.4-sqlite3,php8.4-curl,php8.4-mbstring,php8.4-xml,php8.4-mysql,php-symfony-console,mariadb-server,phpunit,redis-server,python3,clang,libclang-dev,gcc,libc6-dev,pkg-config,ca-certificates

fail_setup() {
  echo "php84: $*" >&2
  exit 2
}

[ "$(id -u)" -eq 0 ] || fail_setup "needs root (debootstrap, chroot, bind mounts)"
[ -x "$cargo_home/bin/cargo" ] || fail_setup "no rustup toolchain in $cargo_home (the chroot borrows it)"

# The marker holds the package list the chroot was made or last updated with.
if [ ! -f "$chroot_dir/.monei-ready" ]; then
  command -v debootstrap >/dev/null || fail_setup "debootstrap missing: tests/tools/deps.sh reliability installs it"
  echo "php84: creating a Debian 13 chroot in $chroot_dir (once)"
  if [ -e "$chroot_dir" ]; then
    # Left by an interrupted debootstrap.
    if awk -v d="$chroot_dir/" 'index($2 "/", d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
      fail_setup "$chroot_dir is half made and has mounts inside: unmount them, then delete it"
    fi
    rm -rf "$chroot_dir"
  fi
  mkdir -p "$chroot_dir"
  debootstrap --variant=minbase --include="$packages" trixie "$chroot_dir" http://deb.debian.org/debian \
    > "$chroot_dir.debootstrap.log" 2>&1 || fail_setup "debootstrap failed, see $chroot_dir.debootstrap.log"
  echo "$packages" > "$chroot_dir/.monei-ready"
elif [ "$(cat "$chroot_dir/.monei-ready")" != "$packages" ]; then
  echo "php84: installing the packages this script now needs into $chroot_dir"
  chroot "$chroot_dir" apt-get install -y -q --no-install-recommends ${packages//,/ } \
    > "$chroot_dir.apt.log" 2>&1 || fail_setup "apt-get in the chroot failed, see $chroot_dir.apt.log"
  echo "$packages" > "$chroot_dir/.monei-ready"
fi

mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
}
trap unmount_all EXIT
bind() { # host path; mounted at the same path inside the chroot
  local target="$chroot_dir$1"
  mkdir -p "$target"
  if ! mountpoint -q "$target"; then
    mount --bind "$1" "$target" || fail_setup "cannot bind-mount $1"
    mounted+=("$target")
  fi
}
for d in /proc /sys /dev /dev/pts "$cargo_home" "$rustup_home" "$root"; do
  bind "$d"
done
# Magento's XSDs, read by the Magento module tests from ../shared/magento-xsd.
if [ -d "$root/../shared/magento-xsd" ]; then
  bind "$(cd "$root/../shared/magento-xsd" && pwd)"
fi

chroot_bin=$(command -v chroot) || fail_setup "chroot missing"
env -i HOME="$HOME" CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" \
  PATH="$cargo_home/bin:/usr/local/bin:/usr/bin:/bin" ROOT="$root" \
  "$chroot_bin" "$chroot_dir" "$root/tests/tools/with-redis.sh" "$root/tests/tools/with-mariadb.sh" "$root/tests/php84/inside.sh"
