#!/usr/bin/env bash
# A Debian package of the extension in a clean Debian chroot, as an admin
# would use it:
#   apt-get install ./<deb>   pulls PHP in by dependency; php -m lists the module
#   php-fpm<X.Y>              (installed after it) loads it and serves a real
#                             FastCGI request (cgi-fcgi) that takes and releases
#                             a lock on a redis-server inside the chroot
#   apt-get remove            no conf.d link of any SAPI is left
#   apt-get purge             the ini is gone
#   upgrade N -> N+1          a locally edited ini is kept (conffile prompt
#                             answered "keep", --force-confold)
#   tests/packaging/deb-chroot.sh SUITE PHP_VERSION DEB     (root)
# The clean chroot (debootstrap minbase) is made once in
# /var/cache/monei-concurrency/<suite>-clean and never changed: each run works
# on an overlay of it that is thrown away. Downloaded .debs are kept in
# /var/cache/monei-concurrency/apt-<suite>. Every process started here is
# stopped and every mount undone on exit, also on failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
suite=$1
php=$2
deb=$(realpath "$3")
pkg=php$php-monei-concurrency
base=/var/cache/monei-concurrency/$suite-clean
archives=/var/cache/monei-concurrency/apt-$suite
work=$(mktemp -d /tmp/monei-deb-$suite.XXXXXX)
R=$work/root
. "$root/tests/tools/chroot.sh"

in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
cleanup() {
  local f
  for f in "$R"/run/monei-*.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  for f in "$R"/run/monei-*.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  chroot_unmount_all
  chroot_has_mounts "$work" || rm -rf "$work"
}
trap cleanup EXIT
step() { printf '[%s] deb %s: %s\n' "$(date +%H:%M:%S)" "$suite" "$*"; }
fail() { echo "deb $suite: FAIL $*"; exit 1; }

chroot_ensure "$base" "$suite" "" || exit 2
chroot_overlay "$base" "$R" "$work" "$archives" || exit 2
mkdir -p "$R/tmp/pkg"
cp "$deb" "$R/tmp/pkg/"
cp "$root/tests/packaging/lock-cycle.php" "$R/tmp/pkg/"

# N+1: the same package with revision +1 and one more comment line in the
# ini, so dpkg has a changed conffile to ask about.
v=$(dpkg-deb -f "$deb" Version)
next=${v%-*}-$(( ${v##*-} + 1 ))
dpkg-deb -R "$deb" "$work/next"
sed -i "s/^Version: .*/Version: $next/" "$work/next/DEBIAN/control"
echo "; (changed in $next)" >> "$work/next/etc/php/$php/mods-available/monei_concurrency.ini"
dpkg-deb --root-owner-group -b "$work/next" "$R/tmp/pkg/next.deb" > /dev/null

ini=/etc/php/$php/mods-available/monei_concurrency.ini
enabled_links() { in_root sh -c "find /etc/php/$php -path '*/conf.d/*' -name '*monei_concurrency*' | sort"; }

t0=$(date +%s)
step "apt-get install ./$(basename "$deb") into a clean $suite"
in_root apt-get update -q > "$work/apt.log" 2>&1 || { tail -n 5 "$work/apt.log"; fail "apt-get update"; }
in_root apt-get install -y -q --no-install-recommends "/tmp/pkg/$(basename "$deb")" >> "$work/apt.log" 2>&1 \
  || { tail -n 20 "$work/apt.log"; fail "apt-get install ./$(basename "$deb")"; }
pulled=$(grep -o "^Setting up php$php-[a-z-]*" "$work/apt.log" | sed 's/Setting up //' | sort -u | tr '\n' ' ')
modules=$(in_root php -m)
grep -qx monei_concurrency <<< "$modules" || fail "php -m does not list monei_concurrency after install (pulled in: $pulled)"
ri=$(in_root php --ri monei_concurrency)
grep -q "^version => ${v%-*}\$" <<< "$ri" || fail "php --ri does not show ${v%-*}"
step "installed in $(( $(date +%s) - t0 )) s, pulled in: $pulled; php -m lists monei_concurrency"

step "php-fpm$php + redis-server + cgi-fcgi"
in_root apt-get install -y -q --no-install-recommends "php$php-fpm" redis-server libfcgi-bin >> "$work/apt.log" 2>&1 \
  || { tail -n 20 "$work/apt.log"; fail "apt-get install php$php-fpm redis-server libfcgi-bin"; }
in_root test -e "/etc/php/$php/fpm/conf.d/30-monei_concurrency.ini" \
  || fail "the module is not enabled for php-fpm (SAPI installed after the package): fpm/conf.d has $(ls "$R/etc/php/$php/fpm/conf.d" | tr '\n' ' '); cli/conf.d has $(ls "$R/etc/php/$php/cli/conf.d" | tr '\n' ' ')"
ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
redis_port=${ports% *}
fpm_port=${ports#* }
in_root redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir /tmp \
  --daemonize yes --pidfile /run/monei-redis.pid --logfile /tmp/redis.log > /dev/null
cat > "$R/tmp/pkg/fpm.conf" <<FPM
[global]
pid = /run/monei-fpm.pid
error_log = /tmp/fpm.log
daemonize = yes
[check]
user = www-data
group = www-data
listen = 127.0.0.1:$fpm_port
pm = static
pm.max_children = 1
FPM
in_root "php-fpm$php" -y /tmp/pkg/fpm.conf || fail "php-fpm$php did not start: $(cat "$R/tmp/fpm.log" 2>/dev/null)"
for _ in $(seq 100); do
  in_root redis-cli -p "$redis_port" ping > /dev/null 2>&1 && [ -s "$R/run/monei-fpm.pid" ] && break
  sleep 0.1
done
chmod 644 "$R/tmp/pkg/lock-cycle.php"
reply=$(in_root env SCRIPT_FILENAME=/tmp/pkg/lock-cycle.php REQUEST_METHOD=GET \
  QUERY_STRING="redis_url=redis://127.0.0.1:$redis_port" cgi-fcgi -bind -connect "127.0.0.1:$fpm_port" 2>&1 || true)
grep -q "^LOCK-CYCLE OK ${v%-*} fpm-fcgi" <<< "$reply" || fail "FastCGI request to php-fpm$php: $(tr '\n' ' ' <<< "$reply" | head -c 400)"
step "php-fpm$php served: $(grep '^LOCK-CYCLE' <<< "$reply")"
cli=$(in_root php /tmp/pkg/lock-cycle.php "redis://127.0.0.1:$redis_port")
[[ "$cli" == "LOCK-CYCLE OK ${v%-*} cli"* ]] || fail "CLI lock cycle: $cli"
kill "$(cat "$R/run/monei-fpm.pid")"

step "apt-get remove"
links_before=$(enabled_links | tr '\n' ' ')
in_root apt-get remove -y -q "$pkg" >> "$work/apt.log" 2>&1 || fail "apt-get remove"
[ -z "$(enabled_links)" ] || fail "links left after remove: $(enabled_links | tr '\n' ' ')"
[ -f "$R$ini" ] || fail "remove deleted the conffile (only purge should)"
step "remove: links before [$links_before] -> none; the ini stays until purge"

step "apt-get purge"
in_root apt-get purge -y -q "$pkg" >> "$work/apt.log" 2>&1 || fail "apt-get purge"
[ ! -e "$R$ini" ] || fail "$ini still there after purge"
[ -z "$(in_root find /etc/php -xtype l)" ] || fail "dangling links after purge: $(in_root find /etc/php -xtype l | tr '\n' ' ')"
step "purge: $ini gone, no dangling link"

step "upgrade $v -> $next over an edited ini"
in_root apt-get install -y -q "/tmp/pkg/$(basename "$deb")" >> "$work/apt.log" 2>&1 || fail "reinstall $v"
sed -i 's/^;monei_concurrency.key_prefix = .*/monei_concurrency.key_prefix = "edited:"/' "$R$ini"
in_root apt-get install -y -q -o Dpkg::Options::=--force-confold /tmp/pkg/next.deb >> "$work/apt.log" 2>&1 || fail "upgrade to $next"
[ "$(in_root dpkg-query -W -f='${Version}' "$pkg")" = "$next" ] || fail "not at $next after the upgrade"
grep -q '^monei_concurrency.key_prefix = "edited:"' "$R$ini" || fail "the local edit of $ini was lost"
[ -f "$R$ini.dpkg-dist" ] || fail "no $ini.dpkg-dist: dpkg did not see a changed conffile"
[ "$(in_root php -r 'echo ini_get("monei_concurrency.key_prefix");')" = "edited:" ] || fail "php does not read the edited ini after the upgrade"
in_root test -e "/etc/php/$php/fpm/conf.d/30-monei_concurrency.ini" && in_root test -e "/etc/php/$php/cli/conf.d/30-monei_concurrency.ini" \
  || fail "the module is not enabled for cli and fpm after the upgrade"
step "upgrade: edited ini kept (new one as .dpkg-dist), module enabled for cli and fpm"
echo "deb $suite: PASS $(basename "$deb") install/fpm/remove/purge/upgrade in $(( $(date +%s) - t0 )) s"
