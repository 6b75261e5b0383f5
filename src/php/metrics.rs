//! `stats()` and `metrics()`, and the shared region behind them, mapped at
//! module startup: in PHP-FPM that runs in the master before it forks its
//! workers, so they all count into the same figures.

use crate::php::ini;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::error::php_error;
use ext_php_rs::flags::ErrorType;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use monei_concurrency_core::settings::METRICS_SHM_BYTES;
use monei_concurrency_core::stats::{self, Figures, Hist, ShareError};
use monei_concurrency_core::{process, prometheus, Config};
use std::sync::OnceLock;
use std::time::Duration;

pub fn functions(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(stats))
        .function(wrap_function!(metrics))
}

/// Why the figures are per process, when they are (for phpinfo).
static NOT_SHARED: OnceLock<String> = OnceLock::new();

/// MINIT: maps the region `monei_concurrency.metrics_shm_bytes` asks for.
/// A value that cannot be used is reported once, as a startup warning, and
/// the figures stay per process; the extension works on either way.
pub fn share_at_startup() {
    process::install_fork_handler();
    let text = ini::get_master(METRICS_SHM_BYTES.name).unwrap_or_default();
    let why = match METRICS_SHM_BYTES
        .count_from_text(&text)
        .map(|bytes| stats::share(bytes as usize))
    {
        Ok(Ok(())) => return,
        // Asked for: no warning.
        Ok(Err(ShareError::Disabled)) => {
            let _ = NOT_SHARED.set("monei_concurrency.metrics_shm_bytes is 0".to_string());
            return;
        }
        Ok(Err(e)) => format!("monei_concurrency.metrics_shm_bytes: {e}"),
        Err(e) => format!("monei_concurrency.{e}"),
    };
    php_error(
        &ErrorType::Warning,
        &format!("{why}; stats() and metrics() count for each process on its own"),
    );
    let _ = NOT_SHARED.set(why);
}

/// One line for phpinfo: where the figures are counted.
pub fn info_line() -> String {
    match NOT_SHARED.get() {
        Some(why) => format!("per process ({why})"),
        None if stats::is_shared() => format!(
            "pool-wide: shared memory of {} bytes, {} in use",
            ini::get_master(METRICS_SHM_BYTES.name).unwrap_or_default(),
            stats::REGION_BYTES
        ),
        None => "per process".to_string(),
    }
}

/// Counters and histograms: of all processes forked from the one that
/// loaded the extension (e.g. every PHP-FPM worker of a master), or of this
/// process if the region could not be mapped; this process's own under
/// `process`.
#[php_function]
#[php(name = "Monei\\Concurrency\\stats")]
pub fn stats() -> ZBox<ZendHashTable> {
    let mut out = figures(stats::pool());
    let _ = out.insert("pool_wide", stats::is_shared());
    let _ = out.insert("started_at", stats::started_at());
    let _ = out.insert("process", figures(stats::process()));
    out
}

fn figures(f: &Figures) -> ZBox<ZendHashTable> {
    let mut out = ZendHashTable::new();
    for (name, _, value) in f.counters.list() {
        let _ = out.insert(name, value as i64);
    }
    for (name, h) in [("wait_seconds", Hist::Wait), ("hold_seconds", Hist::Hold)] {
        let snap = f.histogram(h).snapshot();
        let mut buckets = ZendHashTable::new();
        for (le, count) in snap.buckets() {
            let _ = buckets.insert(le.as_str(), count as i64);
        }
        let mut hist = ZendHashTable::new();
        let _ = hist.insert("buckets", buckets);
        let _ = hist.insert("sum", snap.sum);
        let _ = hist.insert("count", snap.count() as i64);
        let _ = out.insert(name, hist);
    }
    out
}

/// The pool-wide figures in Prometheus text format.
#[php_function]
#[php(name = "Monei\\Concurrency\\metrics")]
pub fn metrics() -> String {
    // A bad INI value must not break the scrape: it is reported where the
    // value is used; here the default stands in.
    let wait_ms = ini::config()
        .unwrap_or_else(|_| Config::default())
        .lock_wait_ms;
    prometheus::text(Duration::from_millis(wait_ms))
}
