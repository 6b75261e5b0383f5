//! Process identity across forks.
//!
//! PHP-FPM forks its workers after the extension loaded and `pcntl_fork` forks
//! whenever user code likes, possibly while the watchdog thread is in the
//! middle of something. A child must never use its parent's sockets, watchdog
//! thread, held leases or locks. So process-wide state lives in [`ForkLocal`]
//! cells: a forked child starts from fresh instances and leaves the parent's
//! copies untouched (leaked, never closed, never unlocked). Nothing has to be
//! locked across fork(), and the std primitives used here keep no global
//! state that a fork could leave half-updated (parking_lot's parking table does).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

static GENERATION: AtomicU64 = AtomicU64::new(1);
static OWNER_SEQ: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();
/// Set when the fork handler could not be registered: then a fork is
/// noticed by the pid changing instead (a system call per check).
static WATCH_PID: AtomicBool = AtomicBool::new(false);
static LAST_PID: AtomicI32 = AtomicI32::new(0);

/// The current fork generation: changes in every forked child.
pub fn generation() -> u64 {
    install_fork_handler();
    if WATCH_PID.load(Ordering::Relaxed) {
        // SAFETY: getpid() has no preconditions.
        let pid = unsafe { libc::getpid() };
        if LAST_PID.swap(pid, Ordering::AcqRel) != pid {
            GENERATION.fetch_add(1, Ordering::AcqRel);
        }
    }
    GENERATION.load(Ordering::Acquire)
}

/// Registers the pthread_atfork child handler once; it bumps the generation,
/// which is all a child needs to start afresh, and zeroes the child's own
/// figures (the pool-wide ones go on). Call it before the first fork whose
/// children should start from zero (the binding does so at module startup).
pub fn install_fork_handler() {
    ATFORK.call_once(|| {
        // SAFETY: `child` is a plain `extern "C"` function without arguments
        // that lives as long as the process (this library is never unloaded
        // while PHP runs: PHP unloads extensions only at process end). It is
        // async-signal-safe as a fork handler must be: atomic adds and stores
        // only, no allocation, no lock.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(child)) };
        if rc != 0 {
            // ENOMEM: fall back to comparing pids, never to sharing a parent's state.
            // SAFETY: getpid() has no preconditions.
            LAST_PID.store(unsafe { libc::getpid() }, Ordering::Release);
            WATCH_PID.store(true, Ordering::Release);
        }
    });
}

extern "C" fn child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    crate::stats::forget_parent_figures();
}

/// A value that exists once per process generation, created on first use.
///
/// Every thread of the process gets the same `&'static T`, so `T` must be
/// `Sync` (and `Send`: it is made on whichever thread asks first). A type
/// that is not cannot be put in a `ForkLocal` static:
///
/// ```compile_fail
/// use monei_concurrency_core::process::ForkLocal;
/// static NOT_THREAD_SAFE: ForkLocal<std::cell::Cell<u64>> = ForkLocal::new(|| std::cell::Cell::new(0));
/// ```
///
/// while a thread-safe one can:
///
/// ```
/// use monei_concurrency_core::process::ForkLocal;
/// static COUNTER: ForkLocal<std::sync::Mutex<u64>> = ForkLocal::new(|| std::sync::Mutex::new(0));
/// *COUNTER.get().lock().unwrap() += 1;
/// ```
pub struct ForkLocal<T: Send + Sync + 'static> {
    slot: AtomicPtr<Slot<T>>,
    init: fn() -> T,
    /// Shares `T` between threads: Send and Sync only where `T` is.
    _shares: PhantomData<T>,
}

struct Slot<T> {
    generation: u64,
    value: T,
}

impl<T: Send + Sync + 'static> ForkLocal<T> {
    pub const fn new(init: fn() -> T) -> Self {
        ForkLocal {
            slot: AtomicPtr::new(std::ptr::null_mut()),
            init,
            _shares: PhantomData,
        }
    }

    pub fn get(&'static self) -> &'static T {
        let gen = generation();
        loop {
            let current = self.slot.load(Ordering::Acquire);
            // SAFETY: an installed slot is never freed, so it lives for the process.
            if !current.is_null() && unsafe { (*current).generation } == gen {
                return unsafe { &(*current).value };
            }
            let fresh = Box::into_raw(Box::new(Slot {
                generation: gen,
                value: (self.init)(),
            }));
            match self
                .slot
                .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // The replaced slot belongs to a parent process: leaked on purpose.
                Ok(_) => return unsafe { &(*fresh).value },
                // Another thread installed one first; ours was never shared.
                Err(_) => drop(unsafe { Box::from_raw(fresh) }),
            }
        }
    }
}

/// Locks a std mutex; a panic elsewhere never makes the state unusable.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

static OWNER_PREFIX: ForkLocal<String> = ForkLocal::new(|| {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("OS random source unavailable");
    format!("{:016x}", u64::from_ne_bytes(buf))
});

/// A lease owner id, unique across hosts, processes and acquisitions:
/// 64 random bits drawn once per process generation, then a counter.
pub fn next_owner() -> String {
    let n = OWNER_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{}.{n:x}", OWNER_PREFIX.get())
}
