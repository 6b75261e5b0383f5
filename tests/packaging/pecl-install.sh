#!/usr/bin/env bash
# `pecl install` of the make-dist tarball on a scratch Debian 12 system (an
# overlay of the clean chroot of tests/packaging/deb-chroot.sh) with what the
# README asks for: php8.2-dev, php-pear, clang, libclang-dev, make and Rust
# (the host's toolchain, bind-mounted). pecl installs into that system's PHP,
# which is thrown away afterwards; the installed module then runs a lock
# cycle against a redis-server inside it.
#   tests/packaging/pecl-install.sh dist/monei_concurrency-<version>.tgz [CARGO_TARGET_DIR]
# With CARGO_TARGET_DIR (make dist's PHP 8.2 one, bind-mounted at the same
# path) cargo reuses the crates make dist built offline from the same
# tarball; pecl's phpize, configure and make still run from scratch.
# Root (chroot, mounts). Every mount and process is undone on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tarball=$(realpath "$1")
cache=${2:+$(realpath -m "$2")}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
base=/var/cache/monei-concurrency/bookworm-clean
work=$(mktemp -d /tmp/monei-pecl.XXXXXX)
R=$work/root
. "$root/tests/tools/chroot.sh"
cleanup() {
  [ -f "$R/run/monei-redis.pid" ] && kill "$(cat "$R/run/monei-redis.pid")" 2>/dev/null || true
  chroot_unmount_all
  chroot_has_mounts "$work" || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "pecl: FAIL $*"; exit 1; }
in_root() {
  chroot "$R" env -i HOME=/root PATH="$cargo_home/bin:/usr/sbin:/usr/bin:/sbin:/bin" RUSTUP_HOME="$rustup_home" \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 ${cache:+CARGO_TARGET_DIR="$cache"} "$@"
}
name=$(basename "$tarball")
version=${name#monei_concurrency-}
version=${version%.tgz}

chroot_ensure "$base" bookworm "" || exit 2
chroot_overlay "$base" "$R" "$work" /var/cache/monei-concurrency/apt-bookworm || exit 2
chroot_bind "$R" "$cargo_home" "$rustup_home" ${cache:+"$cache"} || exit 2
mkdir -p "$R/tmp/pkg"
cp "$tarball" "$root/tests/packaging/lock-cycle.php" "$R/tmp/pkg/"

in_root apt-get update -q > "$work/apt.log" 2>&1 || { tail -n 5 "$work/apt.log"; fail "apt-get update"; }
in_root apt-get install -y -q --no-install-recommends php8.2-dev php-pear clang libclang-dev make gcc libc6-dev redis-server \
  >> "$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log"; fail "apt-get install of the build dependencies"; }

t0=$(date +%s)
if ! in_root pecl install "/tmp/pkg/$name" > "$work/install.log" 2>&1; then
  grep -v '^ *Compiling' "$work/install.log" | tail -n 30
  fail "pecl install $name"
fi
secs=$(( $(date +%s) - t0 ))
grep -q "install ok: channel://pecl.php.net/monei_concurrency-$version" "$work/install.log" \
  || { tail -n 10 "$work/install.log"; fail "pecl did not report install ok"; }
ext_dir=$(in_root php-config --extension-dir)
[ -f "$R$ext_dir/monei_concurrency.so" ] || fail "pecl did not install $ext_dir/monei_concurrency.so"
listed=$(in_root pecl list)
grep -q "^monei_concurrency *$version" <<< "$listed" || fail "pecl list does not show monei_concurrency $version"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
in_root redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir /tmp \
  --daemonize yes --pidfile /run/monei-redis.pid --logfile /tmp/redis.log > /dev/null
for _ in $(seq 100); do
  in_root redis-cli -p "$port" ping > /dev/null 2>&1 && break
  sleep 0.05
done
out=$(in_root php -d extension=monei_concurrency.so /tmp/pkg/lock-cycle.php "redis://127.0.0.1:$port")
[[ "$out" == "LOCK-CYCLE OK $version cli"* ]] || fail "lock cycle with the pecl-installed module: $out"
echo "pecl: PASS pecl install $name on a scratch Debian 12 in ${secs} s -> $ext_dir/monei_concurrency.so; $out"
