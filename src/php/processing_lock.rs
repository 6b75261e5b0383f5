//! `Monei\Concurrency\ProcessingLock`: the payment lock of an order.

use crate::php::args::{Bytes, Options};
use crate::php::callback;
use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use crate::php::lease::Lease;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
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
        let cfg = ini::config_with(&options).or_throw()?;
        Ok(ProcessingLock {
            locker: Locker::new(cfg).or_throw()?,
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
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        callback::execute(&self.locker, &res, &callback, waitMs, ttlMs)
    }

    pub fn acquire(
        &self,
        orderId: Bytes,
        paymentId: Bytes,
        waitMs: Option<i64>,
        ttlMs: Option<i64>,
    ) -> Result<Lease> {
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
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        Ok(self
            .locker
            .try_acquire(&res, ttlMs)
            .or_throw()?
            .map(Lease::wrap))
    }

    pub fn is_locked(&self, orderId: Bytes, paymentId: Bytes) -> Result<bool> {
        let res = self.locker.payment(&orderId.0, &paymentId.0).or_throw()?;
        self.locker.is_locked(&res).or_throw()
    }
}
