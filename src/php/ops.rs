//! Operations: lock listing, per-process stats, Prometheus metrics.

use crate::php::args::Bytes;
use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use crate::php::logger;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use monei_concurrency_core::monitor::{self, LockInfo};
use monei_concurrency_core::stats;

/// Registers the namespace functions of this file.
pub fn functions(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(locks))
        .function(wrap_function!(stats))
        .function(wrap_function!(metrics))
        .function(wrap_function!(mask_url))
}

/// A lock's holder record as a PHP array.
pub fn lock_info(info: &LockInfo) -> ZBox<ZendHashTable> {
    let mut a = ZendHashTable::new();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let _ = a.insert("resource", info.resource.as_str());
    let _ = a.insert("token", info.token);
    let _ = a.insert("host", info.host.as_str());
    let _ = a.insert("pid", info.pid);
    let _ = a.insert("request", info.request.as_str());
    let _ = a.insert("acquired_at", info.since_ms as f64 / 1000.0);
    let _ = a.insert("held_ms", (now_ms - info.since_ms).max(0));
    let _ = a.insert("ttl_ms", info.ttl_ms);
    let _ = a.insert("waiters", info.waiters);
    a
}

/// Held locks under the INI key prefix, oldest first.
#[php_function]
#[php(name = "Monei\\Concurrency\\locks")]
#[php(defaults(limit = 100))]
pub fn locks(pattern: Option<String>, limit: i64) -> Result<Vec<ZBox<ZendHashTable>>> {
    let _log = logger::on_return();
    let cfg = ini::config().or_throw()?;
    let found = monitor::list(&cfg, pattern.as_deref(), limit).or_throw()?;
    Ok(found.iter().map(lock_info).collect())
}

/// Counters and histograms of this process since it started.
#[php_function]
#[php(name = "Monei\\Concurrency\\stats")]
pub fn stats() -> ZBox<ZendHashTable> {
    let mut out = ZendHashTable::new();
    for (name, _, value) in stats::counters() {
        let _ = out.insert(name, value as i64);
    }
    for (name, h) in [
        ("wait_seconds", &stats::WAIT),
        ("hold_seconds", &stats::HOLD),
    ] {
        let (cumulative, sum) = h.snapshot();
        let mut buckets = ZendHashTable::new();
        for (i, count) in cumulative.iter().enumerate() {
            let le = stats::BUCKETS
                .get(i)
                .map_or("+Inf".to_string(), |b| b.to_string());
            let _ = buckets.insert(le.as_str(), *count as i64);
        }
        let mut hist = ZendHashTable::new();
        let _ = hist.insert("buckets", buckets);
        let _ = hist.insert("sum", sum);
        let _ = hist.insert("count", cumulative.last().copied().unwrap_or(0) as i64);
        let _ = out.insert(name, hist);
    }
    out
}

/// The same in Prometheus text format.
#[php_function]
#[php(name = "Monei\\Concurrency\\metrics")]
pub fn metrics() -> String {
    stats::prometheus()
}

/// `$url` with every password in it (user info, `?password=`, `?pass=`,
/// `sentinel_password=`) replaced by `***`: the one masking the extension
/// applies to its own messages, for PHP tools that print URLs. A URL that is
/// not UTF-8 cannot be parsed, so all of it is hidden.
#[php_function]
#[php(name = "Monei\\Concurrency\\maskUrl")]
pub fn mask_url(url: Bytes) -> String {
    match std::str::from_utf8(&url.0) {
        Ok(text) => monei_concurrency_core::url::mask_url(text),
        Err(_) => "***".to_string(),
    }
}
