#![no_main]
//! libFuzzer target: `signature::parse_header` and `signature::verify` on
//! arbitrary bytes (see `monei_concurrency_fuzz::check_signature`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    monei_concurrency_fuzz::check_signature(data);
});
