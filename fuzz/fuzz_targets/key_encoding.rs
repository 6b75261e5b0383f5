#![no_main]
//! libFuzzer target: `key::encode_id`, `Resource::payment` / `Resource::order`
//! and the `Resource::from_lock_key` round trip (see
//! `monei_concurrency_fuzz::check_key`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    monei_concurrency_fuzz::check_key(data);
});
