//! Running user callbacks: under a lock, or once per idempotency key.

use crate::php::exceptions::to_php;
use crate::php::lease::Lease;
use ext_php_rs::convert::{IntoZval, IntoZvalDyn};
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use ext_php_rs::zend::{bailout, try_catch, CatchError};
use monei_concurrency_core::{ExecError, Locker, Resource};
use std::panic::AssertUnwindSafe;

/// How a call into PHP ended when it did not return a value.
pub enum Failed {
    /// An exception: the callback's own (still pending in the engine, so it
    /// reaches the caller unchanged) or one of ours.
    Threw(PhpException),
    /// A fatal error or max_execution_time: PHP is unwinding with longjmp.
    Bailout,
}

impl From<PhpException> for Failed {
    fn from(e: PhpException) -> Self {
        Failed::Threw(e)
    }
}

/// Calls a PHP callable. A bailout inside it is caught here, so the Rust
/// frames between this call and PHP unwind normally (the lock is released,
/// their memory freed) instead of being jumped over; [`finish`] resumes it.
pub fn call(callable: &ZendCallable, args: Vec<&dyn IntoZvalDyn>) -> Result<Zval, Failed> {
    match try_catch(AssertUnwindSafe(|| callable.try_call(args))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Failed::Threw(PhpException::from(e))),
        Err(CatchError::Bailout) => Err(Failed::Bailout),
        Err(e) => Err(Failed::Threw(PhpException::from_message(format!(
            "callback failed: {e}"
        )))),
    }
}

/// Ends a method that called back into PHP: the value, the exception, or
/// the interrupted bailout carried on. Call it with nothing of the method's
/// own left to drop.
pub fn finish(outcome: Result<Zval, Failed>) -> crate::php::exceptions::Result<Zval> {
    match outcome {
        Ok(value) => Ok(value),
        Err(Failed::Threw(e)) => Err(e),
        // SAFETY: the bailout we caught, resumed; every Rust value between
        // here and the callback has been dropped.
        Err(Failed::Bailout) => unsafe { bailout() },
    }
}

/// `execute()` with a PHP callable: the callable gets the `Lease` and its
/// return value comes back.
pub fn execute(
    locker: &Locker,
    res: &Resource,
    callback: &ZendCallable,
    wait_ms: Option<i64>,
    ttl_ms: Option<i64>,
) -> Result<Zval, Failed> {
    // The callback's Lease object is freed after the release, which a waiter
    // may be blocked on.
    let mut obj = None;
    let outcome = locker.execute(res, wait_ms, ttl_ms, |lease| {
        let obj = obj.insert(
            ZendClassObject::new(Lease::wrap(lease.clone()))
                .into_zval(false)
                .map_err(PhpException::from)?,
        );
        call(callback, vec![&*obj])
    });
    drop(obj);
    match outcome {
        Ok(v) => Ok(v),
        Err(ExecError::Callback(e)) => Err(e),
        Err(ExecError::Core(e)) => Err(Failed::Threw(to_php(e))),
    }
}
