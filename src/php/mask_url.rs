//! `Monei\Concurrency\maskUrl()`: the core's URL masking, for PHP tools.

use crate::php::args::Bytes;
use ext_php_rs::prelude::*;

pub fn functions(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(mask_url))
}

/// `$url` with every password in it (user info, `?password=`, `?pass=`,
/// `sentinel_password=`) replaced by `***`: the one masking the extension
/// applies to its own messages, for PHP tools that print URLs. A URL that is
/// not UTF-8 cannot be parsed, so all of it is hidden.
#[php_function]
#[php(name = "Monei\\Concurrency\\maskUrl")]
pub fn mask_url(url: Bytes) -> String {
    match std::str::from_utf8(&url.0) {
        Ok(text) => monei_concurrency_core::url::mask_url(text),
        Err(_) => "***".to_string(),
    }
}
