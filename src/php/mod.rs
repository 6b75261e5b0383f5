//! The binding layer: PHP classes, exceptions, INI entries and request hooks.
//! It only converts between PHP values and the core.

pub mod args;
pub mod callback;
pub mod exceptions;
#[allow(non_snake_case)]
pub mod idempotency_store;
pub mod ini;
// PHP parameter names are the Rust identifiers, so they are camelCase for
// named arguments (`waitMs: 500`).
#[allow(non_snake_case)]
pub mod lease;
pub mod lock_listing;
pub mod logger;
pub mod mask_url;
pub mod metrics;
#[allow(non_snake_case)]
pub mod order_lock_manager;
#[allow(non_snake_case)]
pub mod payment_state_machine;
#[allow(non_snake_case)]
pub mod processing_lock;
pub mod serialize;
#[allow(non_snake_case)]
pub mod webhook_signature;
