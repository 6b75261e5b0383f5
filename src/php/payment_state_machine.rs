//! `Monei\Concurrency\PaymentStateMachine`: statuses only move forward.

use crate::php::args::{Bytes, Options};
use crate::php::exceptions::{OrThrow, Result};
use crate::php::ini;
use crate::php::logger;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use monei_concurrency_core::state_machine::OPTIONS;
use monei_concurrency_core::PaymentStateMachine as Machine;

#[php_class]
#[php(name = "Monei\\Concurrency\\PaymentStateMachine")]
#[php(flags = ClassFlags::Final)]
pub struct PaymentStateMachine {
    machine: Machine,
}

#[php_impl]
impl PaymentStateMachine {
    #[php(defaults(options = Options::default()))]
    pub fn __construct(options: Options) -> Result<Self> {
        let (cfg, extras) = ini::config_with_extras(&options, OPTIONS).or_throw()?;
        Ok(PaymentStateMachine {
            machine: Machine::new(cfg, &extras).or_throw()?,
        })
    }

    /// True if applied; false for a duplicate, stale or unreachable status.
    pub fn advance(&self, paymentId: Bytes, status: Bytes) -> Result<bool> {
        let _log = logger::on_return();
        // A status that is not UTF-8 cannot be in the graph; it must not be
        // mangled into one that is.
        let status = std::str::from_utf8(&status.0).unwrap_or("\u{FFFD}invalid UTF-8");
        self.machine.advance(&paymentId.0, status).or_throw()
    }

    pub fn current(&self, paymentId: Bytes) -> Result<Option<String>> {
        let _log = logger::on_return();
        self.machine.current(&paymentId.0).or_throw()
    }
}
