//! Operations: lock listing, per-process stats, Prometheus metrics, logging.

use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::FromZval;
use ext_php_rs::flags::DataType;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use monei_concurrency_core::events::{self, Field};
use monei_concurrency_core::monitor::{self, LockInfo};
use monei_concurrency_core::stats;
use std::cell::{Cell, RefCell};

/// Registers the namespace functions of this file.
pub fn functions(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(locks))
        .function(wrap_function!(stats))
        .function(wrap_function!(metrics))
        .function(wrap_function!(set_logger))
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

/// A callable kept beyond the call that passed it (its refcount is held).
pub struct StoredCallable(Zval);

impl<'a> FromZval<'a> for StoredCallable {
    const TYPE: DataType = DataType::Callable;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.is_callable()
            .then(|| StoredCallable(zval.shallow_clone()))
    }
}

thread_local! {
    static LOGGER: RefCell<Option<Zval>> = const { RefCell::new(None) };
    static DISPATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Installs (or with null removes) the logger for the rest of this request:
/// `function (string $level, string $message, array $context): void`.
#[php_function]
#[php(name = "Monei\\Concurrency\\setLogger")]
pub fn set_logger(logger: Option<StoredCallable>) {
    let on = logger.is_some();
    LOGGER.with(|l| *l.borrow_mut() = logger.map(|c| c.0));
    events::set_enabled(on);
}

/// Hands queued events to the logger. Never while the logger itself runs
/// (no recursion), never with an exception pending, and an exception thrown
/// by the logger is dropped rather than breaking the lock call.
pub fn flush() {
    if !events::enabled() || DISPATCHING.with(Cell::get) || ExecutorGlobals::has_exception() {
        return;
    }
    let Some(logger) = LOGGER.with(|l| l.borrow().as_ref().map(Zval::shallow_clone)) else {
        return;
    };
    let queued = events::drain();
    if queued.is_empty() {
        return;
    }
    DISPATCHING.with(|d| d.set(true));
    if let Ok(callable) = ZendCallable::new(&logger) {
        for e in queued {
            let mut context = ZendHashTable::new();
            for (k, v) in &e.context {
                let _ = match v {
                    Field::Str(s) => context.insert(*k, s.as_str()),
                    Field::Int(n) => context.insert(*k, *n),
                };
            }
            let Ok(context) = ext_php_rs::convert::IntoZval::into_zval(context, false) else {
                continue;
            };
            if callable
                .try_call(vec![&e.level, &e.message, &context])
                .is_err()
            {
                // exit() in the logger goes ahead; any other exception is dropped.
                if ExecutorGlobals::pending_exception_class().as_deref() == Some("UnwindExit") {
                    break;
                }
                let _ = ExecutorGlobals::take_exception();
            }
        }
    }
    DISPATCHING.with(|d| d.set(false));
}

/// At request end: let go of the logger without calling it. RSHUTDOWN runs
/// while PHP deactivates its modules, after exit() or a fatal error as well;
/// a logger that throws or exits there crashed the process, so events still
/// queued (the request-end releases among them) are dropped. The counters of
/// stats() still count them.
pub fn shutdown() {
    LOGGER.with(|l| *l.borrow_mut() = None);
    events::set_enabled(false);
}
