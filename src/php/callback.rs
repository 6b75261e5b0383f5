//! Running a user callback under a lock.

use crate::php::exceptions::{to_php, Result};
use crate::php::lease::Lease;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use monei_concurrency_core::{ExecError, Locker, Resource};

/// `execute()` with a PHP callable: the callable gets the `Lease` and its
/// return value comes back. Its exception propagates unchanged (it stays
/// pending in the engine; the core only sees that the callback failed).
pub fn execute(
    locker: &Locker,
    res: &Resource,
    callback: &ZendCallable,
    wait_ms: Option<i64>,
    ttl_ms: Option<i64>,
) -> Result<Zval> {
    let outcome = locker.execute(res, wait_ms, ttl_ms, |lease| {
        let obj = ZendClassObject::new(Lease::wrap(lease.clone()))
            .into_zval(false)
            .map_err(PhpException::from)?;
        callback.try_call(vec![&obj]).map_err(PhpException::from)
    });
    crate::php::ops::flush();
    match outcome {
        Ok(v) => Ok(v),
        Err(ExecError::Callback(e)) => Err(e),
        Err(ExecError::Core(e)) => Err(to_php(e)),
    }
}
