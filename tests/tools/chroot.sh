# Sourced, not run: Debian chroots made with debootstrap and kept in
# /var/cache/monei-concurrency/ (never in the repository), bind mounts into
# them, undone by chroot_unmount_all (callers trap it on EXIT).
#
#   chroot_ensure DIR SUITE PACKAGES   debootstrap once (minbase + PACKAGES,
#                                      comma-separated); later calls install
#                                      what a changed PACKAGES adds
#   chroot_bind DIR PATH...            bind-mount host PATHs at the same place inside
#   chroot_unmount_all                 undo every mount made through this file
#
# A half-made chroot (interrupted debootstrap) is deleted and made again,
# but only when nothing is mounted inside it: a bind mount would take the
# host directory with it. Errors go to stderr and return 2.

chroot_mounted=()

# The Debian 13 chroot that builds and tests the extension on PHP 8.4
# (tests/php84/run.sh, packaging/dist.sh): one package list, one chroot.
MONEI_TRIXIE_DIR=${MONEI_PHP84_ROOT:-/var/cache/monei-concurrency/trixie}
MONEI_TRIXIE_PACKAGES=make,php8.4-cli,php8.4-dev,php8.4-sqlite3,php8.4-curl,php8.4-mbstring,php8.4-xml,php8.4-mysql,php-symfony-console,mariadb-server,phpunit,redis-server,python3,clang,libclang-dev,gcc,libc6-dev,pkg-config,ca-certificates

chroot_ensure() {
  local dir=$1 suite=$2 packages=$3
  # The marker holds the package list the chroot was made or last updated with.
  if [ ! -f "$dir/.monei-ready" ]; then
    command -v debootstrap >/dev/null || { echo "chroot: debootstrap missing: tests/tools/deps.sh reliability installs it" >&2; return 2; }
    echo "chroot: creating a Debian $suite chroot in $dir (once)" >&2
    if [ -e "$dir" ]; then
      if chroot_has_mounts "$dir"; then
        echo "chroot: $dir is half made and has mounts inside: unmount them, then delete it" >&2
        return 2
      fi
      rm -rf "$dir"
    fi
    mkdir -p "$dir"
    local include=()
    [ -n "$packages" ] && include=(--include="$packages")
    debootstrap --variant=minbase "${include[@]}" "$suite" "$dir" http://deb.debian.org/debian \
      > "$dir.debootstrap.log" 2>&1 || { echo "chroot: debootstrap failed, see $dir.debootstrap.log" >&2; return 2; }
    echo "$packages" > "$dir/.monei-ready"
  elif [ "$(cat "$dir/.monei-ready")" != "$packages" ]; then
    echo "chroot: installing the packages now needed into $dir" >&2
    { chroot "$dir" apt-get update -q && chroot "$dir" apt-get install -y -q --no-install-recommends ${packages//,/ }; } \
      > "$dir.apt.log" 2>&1 || { echo "chroot: apt-get in $dir failed, see $dir.apt.log" >&2; return 2; }
    echo "$packages" > "$dir/.monei-ready"
  fi
}

chroot_bind() {
  local dir=$1 path target
  shift
  for path in "$@"; do
    target="$dir$path"
    mkdir -p "$target"
    if ! mountpoint -q "$target"; then
      mount --bind "$path" "$target" || { echo "chroot: cannot bind-mount $path" >&2; return 2; }
      chroot_mounted+=("$target")
    fi
  done
}

# True when something is mounted at or below DIR (then never rm -rf it).
chroot_has_mounts() {
  awk -v d="$1/" 'index($2 "/", d) == 1 { found = 1 } END { exit !found }' /proc/mounts
}

chroot_unmount_all() {
  local i
  for ((i = ${#chroot_mounted[@]} - 1; i >= 0; i--)); do
    umount "${chroot_mounted[i]}" 2>/dev/null || umount -l "${chroot_mounted[i]}" 2>/dev/null || true
  done
  chroot_mounted=()
}

# A throwaway system on top of a clean chroot: an overlay mounted at ROOT
# whose changes go to SCRATCH (deleted by the caller), with /proc, /sys,
# /dev bound, the host's resolv.conf, no service started by package scripts
# (policy-rc.d), and apt's downloads kept in APT_CACHE across runs.
#   chroot_overlay BASE ROOT SCRATCH APT_CACHE
chroot_overlay() {
  local base=$1 root=$2 scratch=$3 cache=$4
  mkdir -p "$scratch/upper" "$scratch/ovl" "$root" "$cache"
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$scratch/upper,workdir=$scratch/ovl" "$root" \
    || { echo "chroot: cannot mount an overlay of $base" >&2; return 2; }
  chroot_mounted+=("$root")
  chroot_bind "$root" /proc /sys /dev /dev/pts || return 2
  mkdir -p "$root/var/cache/apt/archives"
  mount --bind "$cache" "$root/var/cache/apt/archives" || return 2
  chroot_mounted+=("$root/var/cache/apt/archives")
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
}
