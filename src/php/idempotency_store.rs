//! `Monei\Concurrency\IdempotencyStore`: exactly-once callbacks per key.

use crate::php::args::{Bytes, Options};
use crate::php::callback::{self, Failed};
use crate::php::exceptions::{to_php, OrThrow, Result};
use crate::php::ini;
use crate::php::logger;
use crate::php::serialize::{serialize, unserialize, AllowedClasses};
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use monei_concurrency_core::idempotency::{IdempotencyStore as Store, OPTIONS};
use monei_concurrency_core::{ExecError, Once};

#[php_class]
#[php(name = "Monei\\Concurrency\\IdempotencyStore")]
#[php(flags = ClassFlags::Final)]
pub struct IdempotencyStore {
    store: Store,
    allowed: AllowedClasses,
}

/// The option naming the classes whose objects results may hold (a PHP
/// notion, so the binding's, not the core's).
const ALLOWED_CLASSES: &str = "allowed_classes";

#[php_impl]
impl IdempotencyStore {
    #[php(defaults(options = Options::default()))]
    pub fn __construct(options: Options) -> Result<Self> {
        let mut allowed = AllowedClasses::default();
        let mut rest = Vec::with_capacity(options.0.len());
        for (name, value) in options.0 {
            if name == ALLOWED_CLASSES {
                allowed = AllowedClasses::from_option(&value).or_throw()?;
            } else {
                rest.push((name, value));
            }
        }
        let (cfg, extras) = ini::config_with_extras(&Options(rest), OPTIONS).or_throw()?;
        Ok(IdempotencyStore {
            store: Store::new(cfg, &extras).or_throw()?,
            allowed,
        })
    }

    #[php(defaults(fingerprint = Bytes::default(), waitMs = 0))]
    pub fn once(
        &self,
        key: Bytes,
        callback: ZendCallable,
        fingerprint: Bytes,
        waitMs: i64,
    ) -> Result<Zval> {
        let _log = logger::on_return();
        // Everything is moved into the block and dropped before finish(),
        // which may resume a bailout from inside the callback.
        let outcome = (move || {
            let outcome = self.store.once(&key.0, &fingerprint.0, waitMs, || {
                let value = callback::call(&callback, vec![])?;
                let bytes = serialize(&value, &self.allowed)?;
                Ok::<_, Failed>((value, bytes))
            });
            match outcome {
                Ok(Once::Ran(value)) => Ok(value),
                Ok(Once::Replayed(bytes)) => Ok(unserialize(&bytes, &self.allowed, &key.0)?),
                Err(ExecError::Callback(e)) => Err(e),
                Err(ExecError::Core(e)) => Err(Failed::Threw(to_php(e))),
            }
        })();
        callback::finish(outcome)
    }

    /// null, 'in_progress' or 'completed'.
    pub fn status(&self, key: Bytes) -> Result<Option<String>> {
        let _log = logger::on_return();
        Ok(self
            .store
            .status(&key.0)
            .or_throw()?
            .map(|s| s.as_str().to_string()))
    }

    pub fn forget(&self, key: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        self.store.forget(&key.0).or_throw()
    }
}
