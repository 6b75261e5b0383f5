//! `Monei\Concurrency\locks()`: the held locks, and a holder record as a PHP array.

use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use crate::php::logger;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use monei_concurrency_core::monitor::{self, LockInfo};

pub fn functions(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(locks))
}

/// A lock's holder record as a PHP array.
pub fn lock_info(info: &LockInfo) -> ZBox<ZendHashTable> {
    let mut a = ZendHashTable::new();
    let _ = a.insert("resource", info.resource.as_str());
    let _ = a.insert("token", info.token);
    let _ = a.insert("host", info.host.as_str());
    let _ = a.insert("pid", info.pid);
    let _ = a.insert("request", info.request.as_str());
    let _ = a.insert("acquired_at", info.since_ms as f64 / 1000.0);
    let _ = a.insert("held_ms", info.held_ms());
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
