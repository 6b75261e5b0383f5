//! `Monei\Concurrency\setLogger()`: log events handed to a PHP callable.
//!
//! Events are queued by the core and delivered here when a call into the
//! extension returns (the [`on_return`] guard every such method holds):
//! never from inside the logger itself, never with an exception pending,
//! never after a fatal error (a bailout skips the guard), never at request end.

use ext_php_rs::convert::FromZval;
use ext_php_rs::flags::DataType;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::{bailout, try_catch, CatchError, ExecutorGlobals};
use monei_concurrency_core::events::{self, Event, Field};
use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;

/// A callable kept beyond the call that passed it (its refcount is held).
pub struct StoredCallable(Zval);

impl<'a> FromZval<'a> for StoredCallable {
    const TYPE: DataType = DataType::Callable;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.is_callable()
            .then(|| StoredCallable(zval.shallow_clone()))
    }
}

thread_local! {
    static LOGGER: RefCell<Option<Zval>> = const { RefCell::new(None) };
    static DISPATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Registers setLogger().
pub fn functions(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(set_logger))
}

/// Installs (or with null removes) the logger for the rest of this request:
/// `function (string $level, string $message, array $context): void`.
#[php_function]
#[php(name = "Monei\\Concurrency\\setLogger")]
pub fn set_logger(logger: Option<StoredCallable>) {
    let on = logger.is_some();
    LOGGER.with(|l| *l.borrow_mut() = logger.map(|c| c.0));
    events::set_enabled(on);
}

/// Delivers the queued events when dropped, i.e. when the method holding it
/// returns (normally or with an exception). A bailout (fatal error, timeout)
/// jumps over the drop, so no user code runs after one.
pub struct OnReturn(());

pub fn on_return() -> OnReturn {
    OnReturn(())
}

impl Drop for OnReturn {
    fn drop(&mut self) {
        deliver();
    }
}

/// Hands queued events to the logger. An exception the logger throws is
/// dropped; exit() in it goes ahead; a fatal error in it ends the request
/// as fatal errors do, with the logger removed first.
fn deliver() {
    if !events::enabled() || DISPATCHING.with(Cell::get) || ExecutorGlobals::has_exception() {
        return;
    }
    let Some(logger) = LOGGER.with(|l| l.borrow().as_ref().map(Zval::shallow_clone)) else {
        return;
    };
    let queued = events::drain();
    if queued.is_empty() {
        return;
    }
    DISPATCHING.with(|d| d.set(true));
    let bailed = match ZendCallable::new(&logger) {
        Ok(callable) => call_each(&callable, queued),
        Err(_) => false,
    };
    DISPATCHING.with(|d| d.set(false));
    if bailed {
        shutdown();
        drop(logger);
        // SAFETY: the bailout caught around the logger, resumed with
        // nothing of this function left to drop.
        unsafe { bailout() };
    }
}

/// Calls the logger once per event; true if it ended in a bailout.
fn call_each(callable: &ZendCallable, queued: Vec<Event>) -> bool {
    for e in queued {
        let mut context = ZendHashTable::new();
        for (k, v) in &e.context {
            let _ = match v {
                Field::Str(s) => context.insert(*k, s.as_str()),
                Field::Int(n) => context.insert(*k, *n),
            };
        }
        let Ok(context) = ext_php_rs::convert::IntoZval::into_zval(context, false) else {
            continue;
        };
        let call = try_catch(AssertUnwindSafe(|| {
            callable.try_call(vec![&e.level, &e.message, &context])
        }));
        match call {
            Ok(Ok(_)) => {}
            Err(CatchError::Bailout) => return true,
            Ok(Err(_)) | Err(_) => {
                // exit() in the logger goes ahead; any other exception is dropped.
                if ExecutorGlobals::pending_exception_class().as_deref() == Some("UnwindExit") {
                    break;
                }
                let _ = ExecutorGlobals::take_exception();
            }
        }
    }
    false
}

/// At request end: let go of the logger without calling it, and forget that
/// it was running (a fatal error inside it jumps over the reset in
/// [`deliver`]). RSHUTDOWN runs while PHP deactivates its modules, after
/// exit() or a fatal error as well; a logger that throws or exits there
/// crashed the process, so events still queued (the request-end releases
/// among them) are dropped. The counters of stats() still count them.
pub fn shutdown() {
    LOGGER.with(|l| *l.borrow_mut() = None);
    DISPATCHING.with(|d| d.set(false));
    events::set_enabled(false);
}
