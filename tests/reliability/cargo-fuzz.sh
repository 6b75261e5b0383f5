#!/usr/bin/env bash
# Rust-level fuzzing of the signature-header parser and the key encoder
# (crate fuzz/, not part of the workspace).
#
#   tests/reliability/cargo-fuzz.sh <work dir> [props seconds] [libfuzzer seconds per target]
#
# 1. Always: the stable randomized property runner (fuzz/src/bin/props.rs).
# 2. If a nightly toolchain is installed: the libFuzzer targets, built the way
#    `cargo fuzz build` builds them (sancov instrumentation, AddressSanitizer,
#    debug assertions; cargo-fuzz itself is not needed) and run for a bounded
#    time each. Without nightly this part is reported as SKIPPED.
# One result line per part in $RELIABILITY_RESULTS.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
props_s=${2:-60}
lf_s=${3:-30}
mkdir -p "$work"
result() { # check status figures detail
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "${RELIABILITY_RESULTS:-/dev/null}"
  printf '  [%s] %-28s %s\n' "$2" "$1" "$3"
  [ -n "$4" ] && printf '         %s\n' "$4"
  return 0
}

cd "$root/fuzz"
echo "  building the property runner (stable, fuzz/, target/fuzz-stable)"
if ! cargo build --release --no-default-features --bin props --target-dir "$root/target/fuzz-stable" \
    > "$work/props-build.log" 2>&1; then
  result fuzz-rust-props FAIL "build failed" "$(tail -n 5 "$work/props-build.log" | tr '\n' ' ')"
else
  "$root/target/fuzz-stable/release/props" --seconds "$props_s" > "$work/props.out" 2>&1
  rc=$?
  sed 's/^/  /' "$work/props.out" | cut -c1-600
  fig=$(head -n 1 "$work/props.out" | sed 's/^props: //')
  if [ $rc -eq 0 ]; then
    result fuzz-rust-props PASS "$fig" ""
  else
    result fuzz-rust-props FAIL "$fig" "$(grep -m 3 FAILED "$work/props.out" | cut -c1-300 | tr '\n' ' ')"
  fi
fi

toolchains=$(rustup toolchain list 2>/dev/null)
if ! grep -q '^nightly' <<< "$toolchains"; then
  result fuzz-rust-libfuzzer SKIPPED "no nightly toolchain: libFuzzer targets written (fuzz/fuzz_targets) but not run" ""
  exit 0
fi
echo "  building the libFuzzer targets (nightly, cargo-fuzz flags, AddressSanitizer, target/fuzz-nightly)"
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
flags="$flags -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
flags="$flags -Zsanitizer=address -Cdebug-assertions -Coverflow-checks"
triple=x86_64-unknown-linux-gnu
if ! RUSTFLAGS="$flags" cargo +nightly build --release --target "$triple" --bin signature_header --bin key_encoding \
    --target-dir "$root/target/fuzz-nightly" > "$work/libfuzzer-build.log" 2>&1; then
  result fuzz-rust-libfuzzer FAIL "nightly build failed" "$(tail -n 5 "$work/libfuzzer-build.log" | tr '\n' ' ')"
  exit 0
fi
# No symbolization of each crash (slow); the panic message names the property.
export ASAN_OPTIONS=symbolize=0:detect_leaks=0
status=PASS
figs=""
details=""
for t in signature_header key_encoding; do
  corpus="$work/corpus-$t"
  mkdir -p "$corpus" "$work/artifacts-$t"
  case $t in
    signature_header)
      printf '\x01t=1700000000,v1=f903d6ddd5425362780b8de8fbf8cbfde4a2e8a5223a6e51de89fb8e0ed400f2' > "$corpus/seed1"
      printf '\x00\x07sk_test\x00\x65\xcd\x1d\x00\x00\x00\x00{"id":"pay_1"}' > "$corpus/seed2" ;;
    key_encoding)
      printf '\x00\x03100000123pay_abc' > "$corpus/seed1"
      printf '\x00\x00monei:{1%%3A2}:payment:3:lock' > "$corpus/seed2" ;;
  esac
  bin="$root/target/fuzz-nightly/$triple/release/$t"
  # Fork mode, crashes ignored: a property that fails on some input does not
  # stop the search for others. Each crash input is replayed afterwards to
  # name the property (the "[tag]" of its assertion).
  "$bin" -fork=1 -ignore_crashes=1 -max_total_time="$lf_s" -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts-$t/" "$corpus" > "$work/libfuzzer-$t.log" 2>&1
  last=$(grep -E '^#[0-9]+: cov:' "$work/libfuzzer-$t.log" | tail -n 1)
  runs=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ncrash=$(ls "$work/artifacts-$t" | wc -l)
  if [ "$ncrash" -eq 0 ] && grep -q 'INFO: exiting: 0\|INFO: fuzzed for' "$work/libfuzzer-$t.log"; then
    figs="$figs$t ${runs:-?} runs in ${lf_s} s (cov ${cov:-?}, 0 crashes); "
  else
    status=FAIL
    tags=$(for a in $(ls "$work/artifacts-$t" | head -n 20); do
        tag=$("$bin" -runs=1 -artifact_prefix="$work/replay-" "$work/artifacts-$t/$a" 2>&1 | grep -m1 -A1 'panicked at' | tail -n 1 | grep -o '\[[a-z0-9-]*\]')
        echo "${tag:-[no-panic-message]}"
      done | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}')
    first=$(ls "$work/artifacts-$t" | head -n 1)
    msg=""
    [ -n "$first" ] && msg=$("$bin" -runs=1 -artifact_prefix="$work/replay-" "$work/artifacts-$t/$first" 2>&1 | grep -m1 -A1 'panicked at' | tail -n 1 | cut -c1-260)
    figs="$figs$t ${runs:-?} runs in ${lf_s} s (cov ${cov:-?}), $ncrash crash inputs: ${tags% }; "
    details="$details$t: ${msg:-see $work/libfuzzer-$t.log}; "
  fi
  tail -n 4 "$work/libfuzzer-$t.log" | sed "s/^/  $t: /" | cut -c1-300
done
result fuzz-rust-libfuzzer "$status" "libFuzzer + ASan (nightly): ${figs%; }" "${details%; }"
