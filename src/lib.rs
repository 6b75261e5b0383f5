//! `monei_concurrency`: atomic, re-entrant, lease-based Redis locks for
//! Magento 2 payment code, as a PHP extension. The logic is in the
//! `monei_concurrency_core` crate; this crate is the PHP binding.

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_header, info_table_row, info_table_start};

mod php;

/// MINIT: INI entries and the shared metrics region. No connection is
/// opened here: PHP-FPM runs this in the master, which forks its workers
/// afterwards (and they inherit the region).
extern "C" fn startup(_ty: i32, module_number: i32) -> i32 {
    let ok = std::panic::catch_unwind(|| {
        php::ini::register(module_number);
        php::metrics::share_at_startup();
        php::exceptions::register().is_ok()
    });
    if matches!(ok, Ok(true)) {
        0
    } else {
        -1
    }
}

/// RINIT: label this process' locks with the request; once per process,
/// after the classes exist, narrow one argument type.
extern "C" fn request_startup(_ty: i32, _module_number: i32) -> i32 {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let _ = std::panic::catch_unwind(|| {
        ONCE.call_once(php::webhook_signature::declare_secrets_union);
        monei_concurrency_core::holder::set_request(&request_label());
    });
    0
}

/// "METHOD /path" for a web request, the script path on the CLI. The query
/// string is left out: it may carry tokens, and the holder record is
/// readable by anyone who can read Redis.
fn request_label() -> String {
    let sapi = ext_php_rs::zend::SapiGlobals::get();
    let info = sapi.request_info();
    let path = |uri: &str| uri.split(['?', '#']).next().unwrap_or("").to_string();
    match (info.request_method(), info.request_uri()) {
        (Some(m), Some(uri)) => format!("{m} {}", path(uri)),
        (None, Some(uri)) => path(uri),
        _ => info.path_translated().unwrap_or("").to_string(),
    }
}

/// RSHUTDOWN: release every lease still held when the request ends, whether
/// it ended normally, by an uncaught exception, exit(), a fatal error or
/// max_execution_time (the last two skip all Rust destructors of the request),
/// then hand the last log events over and drop the request's logger.
extern "C" fn request_shutdown(_ty: i32, _module_number: i32) -> i32 {
    let _ = std::panic::catch_unwind(monei_concurrency_core::release_all);
    let _ = std::panic::catch_unwind(php::logger::shutdown);
    0
}

/// phpinfo() / php --ri: version, connection state and every INI value,
/// with the password in the Redis URL masked (PHP's own INI table would print it).
extern "C" fn info(_module: *mut ModuleEntry) {
    let _ = std::panic::catch_unwind(|| {
        use monei_concurrency_core::url::mask_url;
        let shown = |name: &str, v: Option<String>| {
            let v = v.unwrap_or_default();
            if name == "redis_url" {
                mask_url(&v)
            } else {
                v
            }
        };
        info_table_start!();
        info_table_row!("monei_concurrency support", "enabled");
        info_table_row!("version", env!("CARGO_PKG_VERSION"));
        let url = shown("redis_url", php::ini::get("redis_url"));
        let state = match monei_concurrency_core::pool::state_of(&url) {
            s if !s.opened => "not opened yet in this process".to_string(),
            s if s.healthy => format!("connected ({} idle pooled connection(s))", s.idle),
            _ => "last attempt failed".to_string(),
        };
        info_table_row!("connection", state);
        info_table_row!("stats() and metrics()", php::metrics::info_line());
        info_table_end!();
        info_table_start!();
        info_table_header!("Directive", "Local Value", "Master Value");
        for name in monei_concurrency_core::settings::ini_entries().map(|s| s.name) {
            info_table_row!(
                format!("monei_concurrency.{name}"),
                shown(name, php::ini::get(name)),
                shown(name, php::ini::get_master(name))
            );
        }
        info_table_end!();
    });
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = php::lock_listing::functions(module);
    let module = php::mask_url::functions(php::metrics::functions(module));
    php::logger::functions(module)
        .request_startup_function(request_startup)
        .request_shutdown_function(request_shutdown)
        .info_function(info)
        .class::<php::lease::Lease>()
        .class::<php::processing_lock::ProcessingLock>()
        .class::<php::order_lock_manager::OrderLockManager>()
        .class::<php::idempotency_store::IdempotencyStore>()
        .class::<php::payment_state_machine::PaymentStateMachine>()
        .class::<php::webhook_signature::WebhookSignature>()
}
