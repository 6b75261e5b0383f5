//! `Monei\Concurrency\Lease`: one held level of a lock, as a PHP object.

use crate::php::exceptions::{not_constructible, OrThrow, Result};
use crate::php::logger;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use monei_concurrency_core::config::check_arg;
use monei_concurrency_core::error::Arg;
use monei_concurrency_core::Lease as CoreLease;

#[php_class]
#[php(name = "Monei\\Concurrency\\Lease")]
#[php(flags = ClassFlags::Final)]
pub struct Lease {
    inner: CoreLease,
}

impl Lease {
    pub fn wrap(inner: CoreLease) -> Self {
        Lease { inner }
    }
}

#[php_impl]
impl Lease {
    /// Leases come only from the lock classes: one made here would hold nothing.
    pub fn __construct() -> Result<Self> {
        Err(not_constructible(
            "Lease",
            "leases come from acquire(), tryAcquire() and the execute* callbacks",
        ))
    }

    /// Readable resource name, e.g. "order:100000123".
    pub fn resource(&self) -> String {
        self.inner.resource().to_string()
    }

    /// Fencing token: strictly increasing per resource across all processes.
    pub fn token(&self) -> i64 {
        self.inner.token()
    }

    /// Asks Redis whether this lease is still held.
    pub fn is_held(&self) -> Result<bool> {
        let _log = logger::on_return();
        self.inner.is_held().or_throw()
    }

    pub fn remaining_ms(&self) -> Result<i64> {
        let _log = logger::on_return();
        Ok(self.inner.remaining_ms().or_throw()? as i64)
    }

    /// LockLostException if the lease is no longer held.
    pub fn extend(&self, ttlMs: i64) -> Result<()> {
        let _log = logger::on_return();
        let ttl = check_arg(Arg::Ttl, ttlMs, 1).or_throw()?;
        self.inner.extend(ttl).or_throw()
    }

    /// Idempotent; false if already released or expired.
    pub fn release(&self) -> Result<bool> {
        let _log = logger::on_return();
        self.inner.release().or_throw()
    }
}
