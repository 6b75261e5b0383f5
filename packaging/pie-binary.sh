#!/usr/bin/env bash
# make dist, part 2: builds the extension from the PECL tarball the way
# pecl/PIE do (phpize, configure, make; offline from the vendored crates,
# with an empty CARGO_HOME) against the php-config on PATH, and packs the
# .so as PIE's pre-packaged binary for that PHP:
#   php_monei_concurrency-<version>_php<X.Y>-<arch>-linux-glibc-nts.tgz
# holding monei_concurrency.so and monei_concurrency.so.sha256.
#   packaging/pie-binary.sh PECL_TARBALL OUT_DIR WORK_DIR
# WORK_DIR is kept between runs: the same paths let cargo reuse its output.
set -euo pipefail
tarball=$(realpath "$1")
out=$(realpath -m "$2")
work=$(realpath -m "$3")

php_version=$(php-config --version | cut -d. -f1,2)
if php -r 'exit(PHP_ZTS ? 0 : 1);'; then
  echo "pie-binary.sh: $(command -v php) is ZTS; only NTS is built" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
name=$(basename "$tarball" .tgz)          # monei_concurrency-<version>
version=${name#monei_concurrency-}

src="$work/php$php_version/$name"
rm -rf "$src"
mkdir -p "$work/php$php_version" "$work/cargo-home-empty"
tar -xzf "$tarball" -C "$work/php$php_version" "$name"

log="$work/php$php_version/build.log"
start=$(date +%s)
(
  cd "$src"
  export CARGO_HOME="$work/cargo-home-empty" CARGO_NET_OFFLINE=true
  export CARGO_TARGET_DIR="$work/php$php_version/target"
  phpize
  ./configure
  make
) > "$log" 2>&1 || { tail -n 30 "$log" >&2; echo "pie-binary.sh: build against PHP $php_version failed (log: $log)" >&2; exit 1; }
secs=$(( $(date +%s) - start ))

so="$src/modules/monei_concurrency.so"
asset="php_monei_concurrency-${version}_php${php_version}-${arch}-linux-glibc-nts"
pack="$work/php$php_version/pack"
rm -rf "$pack"
mkdir -p "$pack" "$out"
install -m 0755 "$so" "$pack/monei_concurrency.so"
strip --strip-unneeded "$pack/monei_concurrency.so"
(cd "$pack" && sha256sum monei_concurrency.so > monei_concurrency.so.sha256)
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$pack" -czf "$out/$asset.tgz" \
  monei_concurrency.so monei_concurrency.so.sha256
echo "pie-binary.sh: PHP $php_version built in ${secs} s -> $out/$asset.tgz ($(du -h "$out/$asset.tgz" | cut -f1))"
