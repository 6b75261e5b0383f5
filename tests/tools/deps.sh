#!/usr/bin/env bash
# Installs the Debian packages a target needs, only those that are missing.
# Usage: tests/tools/deps.sh build|test|demo|bench|dist|packages|reliability
set -euo pipefail

build=(php8.2-cli php8.2-dev clang libclang-dev libssl-dev pkg-config redis-server)
case "${1:-build}" in
  build) pkgs=("${build[@]}") ;;
  demo) pkgs=("${build[@]}" php8.2-sqlite3) ;;
  test) pkgs=("${build[@]}" phpunit php8.2-xml php8.2-mbstring php8.2-mysql mariadb-server php-symfony-console prometheus) ;;
  bench) pkgs=("${build[@]}" php-redis php-symfony-lock php-nrk-predis gnuplot-nox php8.2-mysql mariadb-server php8.2-fpm nginx php8.2-sqlite3 php8.2-curl) ;;
  dist) pkgs=("${build[@]}" php-pear debootstrap) ;;
  packages) pkgs=("${build[@]}" php-pear debootstrap lintian) ;;
  reliability) pkgs=("${build[@]}" phpunit php8.2-fpm nginx php8.2-sqlite3 php8.2-curl valgrind debootstrap php-pear lintian prometheus) ;;
  *) echo "deps.sh: unknown set '$1'" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a system redis-server on install; our tools start their own.
if [[ " ${missing[*]} " == *" redis-server "* ]]; then
  $sudo service redis-server stop >/dev/null 2>&1 || true
fi
# Likewise Prometheus (promtool for make test; make reliability runs its own server on loopback).
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  $sudo service prometheus stop >/dev/null 2>&1 || true
fi
# Likewise MariaDB: make test starts a throwaway server (tests/tools/with-mariadb.sh).
if [[ " ${missing[*]} " == *" mariadb-server "* ]]; then
  $sudo service mariadb stop >/dev/null 2>&1 || true
fi
