//! `Monei\Concurrency\WebhookSignature`: checks the MONEI-Signature header.

use crate::php::args::Bytes;
use crate::php::exceptions::{invalid, not_constructible, OrThrow, Result};
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use monei_concurrency_core::signature;

#[php_class]
#[php(name = "Monei\\Concurrency\\WebhookSignature")]
#[php(flags = ClassFlags::Final)]
pub struct WebhookSignature;

#[php_impl]
impl WebhookSignature {
    pub fn __construct() -> Result<Self> {
        Err(not_constructible(
            "WebhookSignature",
            "call WebhookSignature::verify() statically",
        ))
    }

    /// `$secrets` is one secret or a list of them (key rotation).
    #[php(defaults(toleranceS = 300))]
    pub fn verify(
        payload: Bytes,
        header: Bytes,
        secrets: &Zval,
        toleranceS: i64,
        now: Option<i64>,
    ) -> Result<bool> {
        let secrets = secret_list(secrets)?;
        let now = now.unwrap_or_else(unix_now);
        signature::verify(&payload.0, &header.0, &secrets, toleranceS, now).or_throw()
    }
}

fn secret_list(z: &Zval) -> Result<Vec<Vec<u8>>> {
    if let Some(s) = z.zend_str() {
        return Ok(vec![s.as_bytes().to_vec()]);
    }
    let Some(list) = z.array() else {
        return Err(invalid("secrets must be a string or an array of strings"));
    };
    crate::php::args::values(list)
        .into_iter()
        .map(|v| {
            v.zend_str()
                .map(|s| s.as_bytes().to_vec())
                .ok_or_else(|| invalid("secrets must contain only strings"))
        })
        .collect()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// ext-php-rs has no union parameter types, so `$secrets` is registered as
/// `mixed`; this narrows its declared type to `array|string`, as the stubs
/// say. The body above already accepts exactly those two.
pub fn declare_secrets_union() {
    use ext_php_rs::ffi::{zend_function, zend_hash_str_find, MAY_BE_ANY};
    use ext_php_rs::zend::ClassEntry;
    const MAY_BE_STRING: u32 = 1 << 6;
    const MAY_BE_ARRAY: u32 = 1 << 7;
    let Some(ce) = ClassEntry::try_find("Monei\\Concurrency\\WebhookSignature") else {
        return;
    };
    // SAFETY: the function table and arg_info of our own class, registered at
    // MINIT and alive for the process; only the type bits of one argument change.
    unsafe {
        let zv = zend_hash_str_find(&ce.function_table, c"verify".as_ptr(), 6);
        if zv.is_null() {
            return;
        }
        let func = (*zv).value.ptr as *mut zend_function;
        let args = (*func).internal_function.arg_info;
        if args.is_null() || (*func).internal_function.num_args < 3 {
            return;
        }
        let secrets = &mut (*args.add(2)).type_;
        secrets.type_mask = (secrets.type_mask & !MAY_BE_ANY) | MAY_BE_STRING | MAY_BE_ARRAY;
    }
}
