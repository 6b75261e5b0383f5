//! PHP-free core of the `monei_concurrency` extension.
//!
//! Lock protocol (Lua scripts run atomically in Redis), key encoding,
//! connection pool, configuration and lease bookkeeping. Nothing here knows
//! about PHP; the extension crate only converts values and calls in.

pub mod backend;
pub mod config;
pub mod error;
pub mod events;
pub mod holder;
pub mod idempotency;
pub mod key;
pub mod lock;
pub mod monitor;
pub mod pool;
pub mod process;
pub mod prometheus;
mod protocol;
pub mod registry;
pub mod resp;
mod scripts;
pub mod settings;
pub mod signature;
pub mod spin;
pub mod state_machine;
pub mod stats;
pub mod url;
pub mod watchdog;
pub mod wire;

pub use config::{Config, Value};
pub use error::{Error, ExecError, Result};
pub use idempotency::{IdempotencyStore, Once};
pub use key::Resource;
pub use lock::Locker;
pub use registry::{release_all, Lease};
pub use state_machine::PaymentStateMachine;
