//! The extension's exception classes and the mapping from core errors.
//!
//! They are plain PHP subclasses (registered with `ClassBuilder`, no Rust
//! object behind them), so they keep `Exception::__construct()` and PHP code
//! can create, extend and rethrow them like any other exception.

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::ffi::zend_class_entry;
use ext_php_rs::zend::ClassEntry;
use monei_concurrency_core::error::Arg;
use monei_concurrency_core::Error;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Looks up an SPL class entry by its C symbol. SPL's exceptions are not in
/// ext-php-rs' `ce` module and `ClassEntry::try_find` does not see them during
/// module startup, but the engine exports the globals that hold them.
fn spl_class(symbol: &'static std::ffi::CStr) -> &'static ClassEntry {
    // SAFETY: `symbol` names a `zend_class_entry *` global of the PHP binary,
    // set during SPL's startup, which runs before any other extension's.
    unsafe {
        let slot = libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()) as *const *mut zend_class_entry;
        assert!(!slot.is_null(), "PHP does not export {symbol:?}");
        &*((*slot) as *const ClassEntry)
    }
}

fn spl_runtime_exception() -> &'static ClassEntry {
    spl_class(c"spl_ce_RuntimeException")
}

fn spl_invalid_argument_exception() -> &'static ClassEntry {
    spl_class(c"spl_ce_InvalidArgumentException")
}

/// One exception class of ours: its name, parent and registered entry.
pub struct ExceptionClass {
    name: &'static str,
    parent: fn() -> &'static ClassEntry,
    parent_name: &'static str,
    ce: AtomicPtr<ClassEntry>,
}

impl ExceptionClass {
    const fn new(
        name: &'static str,
        parent: fn() -> &'static ClassEntry,
        parent_name: &'static str,
    ) -> Self {
        ExceptionClass {
            name,
            parent,
            parent_name,
            ce: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    pub fn entry(&self) -> &'static ClassEntry {
        let ce = self.ce.load(Ordering::Acquire);
        assert!(!ce.is_null(), "{} used before module startup", self.name);
        // SAFETY: set once at MINIT to an entry the engine keeps for the process.
        unsafe { &*ce }
    }

    pub fn throw(&self, msg: String) -> PhpException {
        // Messages may echo caller input; PHP cannot carry a NUL in them.
        PhpException::new(msg.replace('\0', "\\0"), 0, self.entry())
    }
}

macro_rules! exceptions {
    ($($ident:ident = $name:literal extends $parent:expr, $parent_name:literal;)*) => {
        $(pub static $ident: ExceptionClass = ExceptionClass::new($name, $parent, $parent_name);)*
        /// In parent-first order.
        static ALL: &[&ExceptionClass] = &[$(&$ident),*];
    };
}

exceptions! {
    CONCURRENCY = "Monei\\Concurrency\\ConcurrencyException" extends spl_runtime_exception, "\\RuntimeException";
    LOCK_TIMEOUT = "Monei\\Concurrency\\LockTimeoutException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    LOCK_LOST = "Monei\\Concurrency\\LockLostException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    BACKEND = "Monei\\Concurrency\\BackendUnavailableException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    IDEMPOTENCY_IN_PROGRESS = "Monei\\Concurrency\\IdempotencyInProgressException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    IDEMPOTENCY_MISMATCH = "Monei\\Concurrency\\IdempotencyMismatchException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    IDEMPOTENCY_CLAIM_LOST = "Monei\\Concurrency\\IdempotencyClaimLostException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    IDEMPOTENCY_RESULT_UNKNOWN = "Monei\\Concurrency\\IdempotencyResultUnknownException" extends || CONCURRENCY.entry(), "Monei\\Concurrency\\ConcurrencyException";
    INVALID_ARGUMENT = "Monei\\Concurrency\\InvalidArgumentException" extends spl_invalid_argument_exception, "\\InvalidArgumentException";
}

/// Registers every exception class; called from MINIT.
pub fn register() -> ext_php_rs::error::Result<()> {
    const STORE: [Registration; 9] = [
        store::<0>, store::<1>, store::<2>, store::<3>, store::<4>, store::<5>, store::<6>,
        store::<7>, store::<8>,
    ];
    assert_eq!(ALL.len(), STORE.len());
    for (class, store) in ALL.iter().zip(STORE) {
        ClassBuilder::new(class.name)
            .extends((class.parent, class.parent_name))
            .registration(store)
            .register()?;
    }
    Ok(())
}

type Registration = fn(&'static mut ClassEntry, ext_php_rs::args::ArgInfoTables);

/// Keeps the entry PHP created for `ALL[I]` (the engine's lookup by name does
/// not work yet during module startup).
#[allow(clippy::boxed_local)]
fn store<const I: usize>(ce: &'static mut ClassEntry, _args: ext_php_rs::args::ArgInfoTables) {
    ALL[I].ce.store(ce, Ordering::Release);
}

/// Converts a core error into the matching PHP exception.
pub fn to_php(err: Error) -> PhpException {
    if let Error::OutOfRange { arg, min, max, got } = err {
        // The core's neutral name of the argument, as the PHP signature spells it.
        let name = match arg {
            Arg::Wait => "waitMs",
            Arg::Ttl => "ttlMs",
        };
        return INVALID_ARGUMENT.throw(format!(
            "{name} must be between {min} and {max} ms, got {got}"
        ));
    }
    let msg = err.to_string();
    let class = match err {
        Error::InvalidArgument(_) | Error::OutOfRange { .. } => &INVALID_ARGUMENT,
        Error::LockTimeout { .. } => &LOCK_TIMEOUT,
        Error::LockLost { .. } => &LOCK_LOST,
        Error::Backend { .. } => &BACKEND,
        Error::IdempotencyInProgress { .. } => &IDEMPOTENCY_IN_PROGRESS,
        Error::IdempotencyMismatch { .. } => &IDEMPOTENCY_MISMATCH,
        Error::IdempotencyClaimLost { .. } => &IDEMPOTENCY_CLAIM_LOST,
        Error::IdempotencyResultUnknown { .. } => &IDEMPOTENCY_RESULT_UNKNOWN,
    };
    class.throw(msg)
}

pub fn invalid(msg: impl Into<String>) -> PhpException {
    to_php(Error::invalid(msg))
}

/// `new X()` on a class whose objects only the extension makes: an `\Error`,
/// as PHP throws for its own such classes (`new Generator()`).
pub fn not_constructible(class: &str, instead: &str) -> PhpException {
    PhpException::new(
        format!("Direct instantiation of Monei\\Concurrency\\{class} is not allowed; {instead}"),
        0,
        ext_php_rs::zend::ce::error(),
    )
}

pub type Result<T> = std::result::Result<T, PhpException>;

/// `?` on core results inside binding code.
pub trait OrThrow<T> {
    fn or_throw(self) -> Result<T>;
}

impl<T> OrThrow<T> for monei_concurrency_core::Result<T> {
    fn or_throw(self) -> Result<T> {
        self.map_err(to_php)
    }
}
