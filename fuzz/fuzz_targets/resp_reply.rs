#![no_main]
//! libFuzzer target: the RESP2 reply reader on whatever a server might send
//! (see `monei_concurrency_fuzz::check_resp`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    monei_concurrency_fuzz::check_resp(data);
});
