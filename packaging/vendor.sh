#!/usr/bin/env bash
# Writes the crates the extension needs, as vendor.tar.gz for a PECL tarball
# (config.m4 builds offline from it). `cargo vendor` takes every crate in
# Cargo.lock, Windows and wasm ones too (about 230 MB); crates no Linux build
# compiles are cut down to their Cargo.toml and an empty lib.rs, which is
# enough for cargo to resolve the locked graph, and 15 MB are left.
#   packaging/vendor.sh OUT.tar.gz
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"

cargo vendor --locked --quiet "$tmp/vendor" > /dev/null

# name-version of every crate a Linux build of the extension compiles.
cargo tree --locked -p monei_concurrency -e normal,build \
  --target x86_64-unknown-linux-gnu --target aarch64-unknown-linux-gnu \
  --prefix none -f '{p}' | sed -E 's/ \(.*//; s/ v/ /' | sort -u > "$tmp/needed"

stubbed=0
for dir in "$tmp"/vendor/*/; do
  dir=${dir%/}
  # cargo vendor names a crate "name" or, when two versions exist, "name-version".
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n 1)
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n 1)
  grep -qxF "$name $version" "$tmp/needed" && continue
  checksum=$(sed -n 's/.*"package":"\([0-9a-f]*\)".*/\1/p' "$dir/.cargo-checksum.json")
  find "$dir" -mindepth 1 -maxdepth 1 ! -name Cargo.toml -exec rm -rf {} +
  mkdir -p "$dir/src"
  : > "$dir/src/lib.rs"
  printf '{"files":{},"package":"%s"}' "$checksum" > "$dir/.cargo-checksum.json"
  stubbed=$((stubbed + 1))
done

# Reproducible: sorted names, fixed owner and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' \
  -C "$tmp/vendor" -czf "$out" .
echo "vendor.sh: $(ls "$tmp/vendor" | wc -l) crates, $stubbed cut down to stubs (not built on Linux), $(du -h "$out" | cut -f1) -> $out"
