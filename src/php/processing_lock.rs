//! `Monei\Concurrency\ProcessingLock`: the payment lock of an order.

use crate::php::args::{Bytes, Options};
use crate::php::callback;
use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use crate::php::lease::Lease;
use crate::php::logger;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use monei_concurrency_core::Locker;

#[php_class]
#[php(name = "Monei\\Concurrency\\ProcessingLock")]
#[php(flags = ClassFlags::Final)]
pub struct ProcessingLock {
    locker: Locker,
}

#[php_impl]
impl ProcessingLock {
    #[php(defaults(options = Options::default()))]
    pub fn __construct(options: Options) -> Result<Self> {
        Ok(ProcessingLock {
            locker: ini::locker(&options).or_throw()?,
        })
    }

    pub fn execute_with_lock(
        &self,
        orderId: Bytes,
        paymentId: Bytes,
        callback: ZendCallable,
        waitMs: Option<i64>,
        ttlMs: Option<i64>,
    ) -> Result<Zval> {
        let _log = logger::on_return();
        // Everything is moved into the block and dropped before finish(),
        // which may resume a bailout.
        let outcome = (move || {
            let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
            callback::execute(&self.locker, &res, &callback, waitMs, ttlMs)
        })();
        callback::finish(outcome)
    }

    pub fn acquire(
        &self,
        orderId: Bytes,
        paymentId: Bytes,
        waitMs: Option<i64>,
        ttlMs: Option<i64>,
    ) -> Result<Lease> {
        let _log = logger::on_return();
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        Ok(Lease::wrap(
            self.locker.acquire(&res, waitMs, ttlMs).or_throw()?,
        ))
    }

    pub fn try_acquire(
        &self,
        orderId: Bytes,
        paymentId: Bytes,
        ttlMs: Option<i64>,
    ) -> Result<Option<Lease>> {
        let _log = logger::on_return();
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        Ok(self
            .locker
            .try_acquire(&res, ttlMs)
            .or_throw()?
            .map(Lease::wrap))
    }

    /// Holder of the lock (host, pid, request, token, since, ttl, waiters), or null.
    pub fn inspect(&self, orderId: Bytes, paymentId: Bytes) -> Result<Option<ZBox<ZendHashTable>>> {
        let _log = logger::on_return();
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        Ok(self
            .locker
            .inspect(&res)
            .or_throw()?
            .as_ref()
            .map(crate::php::lock_listing::lock_info))
    }

    /// Frees the lock whoever holds it; true if something was freed.
    pub fn force_unlock(&self, orderId: Bytes, paymentId: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        self.locker.force_unlock(&res).or_throw()
    }

    pub fn is_locked(&self, orderId: Bytes, paymentId: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        self.locker.is_locked(&res).or_throw()
    }
}
