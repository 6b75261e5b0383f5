//! PHP's own serialize()/unserialize() for idempotency results.

use crate::php::exceptions::{to_php, Result};
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ExecutorGlobals;
use monei_concurrency_core::Error;

/// serialize($value). A value PHP refuses (a closure, an anonymous class) is
/// an InvalidArgumentException; PHP's own exception is taken, not left pending.
pub fn serialize(value: &Zval) -> Result<Vec<u8>> {
    let f = ZendCallable::try_from_name("serialize").map_err(PhpException::from)?;
    match f.try_call(vec![value]) {
        Ok(z) => z
            .zend_str()
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| to_php(Error::invalid("serialize() returned no string"))),
        Err(_) => {
            let why = ExecutorGlobals::take_exception()
                .and_then(|e| e.try_call_method("getMessage", vec![]).ok())
                .and_then(|m| m.string())
                .unwrap_or_else(|| "serialize() failed".into());
            Err(to_php(Error::invalid(format!(
                "the callback's result cannot be stored: {why}"
            ))))
        }
    }
}

pub fn unserialize(bytes: &[u8]) -> Result<Zval> {
    let f = ZendCallable::try_from_name("unserialize").map_err(PhpException::from)?;
    let mut arg = Zval::new();
    arg.set_binary(bytes.to_vec());
    f.try_call(vec![&arg]).map_err(PhpException::from)
}
