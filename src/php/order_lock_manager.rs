//! `Monei\Concurrency\OrderLockManager`: the order lock, lock()/unlock() style.

use crate::php::args::{Bytes, Options};
use crate::php::callback;
use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use crate::php::logger;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use monei_concurrency_core::Locker;

#[php_class]
#[php(name = "Monei\\Concurrency\\OrderLockManager")]
#[php(flags = ClassFlags::Final)]
pub struct OrderLockManager {
    locker: Locker,
}

#[php_impl]
impl OrderLockManager {
    #[php(defaults(options = Options::default()))]
    pub fn __construct(options: Options) -> Result<Self> {
        Ok(OrderLockManager {
            locker: ini::locker(&options).or_throw()?,
        })
    }

    /// False when the wait ran out.
    pub fn lock(
        &self,
        incrementId: Bytes,
        waitMs: Option<i64>,
        ttlMs: Option<i64>,
    ) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.order(&incrementId.0).or_throw()?;
        self.locker.lock(&res, waitMs, ttlMs).or_throw()
    }

    /// True only if this process held it and released it.
    pub fn unlock(&self, incrementId: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.order(&incrementId.0).or_throw()?;
        self.locker.unlock(&res).or_throw()
    }

    /// Holder of the lock (host, pid, request, token, since, ttl, waiters), or null.
    pub fn inspect(&self, incrementId: Bytes) -> Result<Option<ZBox<ZendHashTable>>> {
        let _log = logger::on_return();
        let res = self.locker.order(&incrementId.0).or_throw()?;
        Ok(self
            .locker
            .inspect(&res)
            .or_throw()?
            .as_ref()
            .map(crate::php::lock_listing::lock_info))
    }

    /// Frees the lock whoever holds it; true if something was freed.
    pub fn force_unlock(&self, incrementId: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.order(&incrementId.0).or_throw()?;
        self.locker.force_unlock(&res).or_throw()
    }

    pub fn is_locked(&self, incrementId: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.order(&incrementId.0).or_throw()?;
        self.locker.is_locked(&res).or_throw()
    }

    pub fn wait_for_unlock(&self, incrementId: Bytes, waitMs: i64) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.order(&incrementId.0).or_throw()?;
        self.locker.wait_for_unlock(&res, waitMs).or_throw()
    }

    pub fn execute_with_order_lock(
        &self,
        incrementId: Bytes,
        callback: ZendCallable,
        waitMs: Option<i64>,
        ttlMs: Option<i64>,
    ) -> Result<Zval> {
        let _log = logger::on_return();
        // See ProcessingLock::execute_with_lock: nothing left to drop at finish().
        let outcome = (move || {
            let res = self.locker.order(&incrementId.0).or_throw()?;
            callback::execute(&self.locker, &res, &callback, waitMs, ttlMs)
        })();
        callback::finish(outcome)
    }
}
