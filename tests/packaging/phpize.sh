#!/usr/bin/env bash
# The phpize flow from a fresh copy of the tree (what pecl, PIE and
# docker-php-ext-install run): configure refuses a missing cargo, a missing
# clang, a too old rustc and a ZTS PHP with its one-line message; then
# phpize && ./configure && make && make install INSTALL_ROOT=... builds and
# installs a module that `php --ri` shows with the package version; then
# make clean + phpize --clean leave exactly the files the copy started with.
#   tests/packaging/phpize.sh [CARGO_TARGET_DIR]
# The cargo output dir is kept between runs (default target/phpize-cache):
# the build itself is what make dist and the PECL check prove from scratch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=$(realpath -m "${1:-$root/target/phpize-cache}")
work=$(mktemp -d /tmp/monei-phpize.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
fail() { echo "phpize: FAIL $*"; exit 1; }

# The files a clone has (tracked, plus new ones not ignored yet).
src="$work/src"
mkdir -p "$src"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src")
(cd "$src" && find . | sort) > "$work/before"

# A PATH holding everything in /usr/bin except what a check removes.
shadow_path() { # names to leave out...
  local bin="$work/bin-$1" f
  rm -rf "$bin"
  mkdir -p "$bin"
  for f in /usr/bin/*; do
    case " $* " in *" $(basename "$f") "*) continue ;; esac
    ln -s "$f" "$bin/"
  done
  echo "$bin"
}
cargo_dir=$(dirname "$(command -v cargo)")

# configure must stop with its message. $1: the expected text; the rest: env assignments.
expect_refusal() {
  local want=$1
  shift
  (cd "$src" && phpize > "$work/phpize.log" 2>&1)
  if (cd "$src" && env "$@" ./configure > "$work/configure.log" 2>&1); then
    fail "configure succeeded with $*; expected: $want"
  fi
  grep -q "^configure: error: .*$want" "$work/configure.log" \
    || { tail -n 3 "$work/configure.log"; fail "configure with $* did not say '$want'"; }
  echo "phpize: configure refuses: $(grep '^configure: error' "$work/configure.log")"
}
expect_refusal "cargo not found in PATH" PATH="$(shadow_path nocargo)"
expect_refusal "clang not found in PATH" PATH="$(shadow_path noclang clang):$cargo_dir"

# An old toolchain is a rustc that reports an old version (a stand-in script).
mkdir -p "$work/old-rust"
printf '#!/bin/sh\necho "rustc 1.70.0 (90c541806 2023-05-31)"\n' > "$work/old-rust/rustc"
chmod +x "$work/old-rust/rustc"
expect_refusal "rustc 1.70.0 is too old" PATH="$work/old-rust:$PATH"

# A ZTS PHP: the real headers with ZTS defined, behind a php-config that
# points at them (phpize's configure reads ZTS from main/php_config.h).
real_inc=$(php-config --include-dir)
cp -r "$real_inc" "$work/zts-include"
echo '#define ZTS 1' >> "$work/zts-include/main/php_config.h"
cat > "$work/php-config-zts" <<ZTS
#!/bin/sh
case "\$1" in
  --include-dir) echo "$work/zts-include" ;;
  --includes) php-config --includes | sed "s#$real_inc#$work/zts-include#g" ;;
  *) exec php-config "\$@" ;;
esac
ZTS
chmod +x "$work/php-config-zts"
(cd "$src" && phpize > /dev/null 2>&1)
if (cd "$src" && ./configure --with-php-config="$work/php-config-zts" > "$work/configure.log" 2>&1); then
  fail "configure accepted a ZTS php-config"
fi
grep -q '^configure: error: .*NTS PHP only.*ZTS' "$work/configure.log" || { tail -n 3 "$work/configure.log"; fail "no ZTS message"; }
echo "phpize: configure refuses ZTS: $(grep '^configure: error' "$work/configure.log")"
(cd "$src" && phpize --clean > /dev/null)
# Running phpize twice leaves autoconf backups (configure~): start from the copy again.
(cd "$src" && rm -f configure~ config.h.in~)

# The real flow. `make` here reads the tree's GNUmakefile, which hands every
# goal to phpize's Makefile once configure has run.
t0=$(date +%s)
(
  cd "$src"
  phpize
  CARGO_TARGET_DIR="$cache" ./configure --enable-monei_concurrency
  make
  make install INSTALL_ROOT="$work/root"
) > "$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; fail "phpize && configure && make && make install"; }
build_s=$(( $(date +%s) - t0 ))
so="$work/root$(php-config --extension-dir)/monei_concurrency.so"
[ -f "$so" ] || fail "make install did not put monei_concurrency.so into INSTALL_ROOT$(php-config --extension-dir)"
ri=$(php -n -d "extension=$so" --ri monei_concurrency)
grep -q "^version => $version\$" <<< "$ri" || { echo "$ri" | head -n 5; fail "php --ri does not show version $version"; }

(cd "$src" && make clean > /dev/null && phpize --clean > /dev/null)
(cd "$src" && find . | sort) > "$work/after"
if ! diff "$work/before" "$work/after" > "$work/diff"; then
  cat "$work/diff"
  fail "make clean + phpize --clean left the tree changed"
fi
echo "phpize: PASS build+install ${build_s} s (cargo output in $cache), php --ri shows $version; make clean + phpize --clean restore the tree"
