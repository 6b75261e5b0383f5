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

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

static GENERATION: AtomicU64 = AtomicU64::new(1);
static OWNER_SEQ: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

/// The current fork generation: changes in every forked child.
pub fn generation() -> u64 {
    install_fork_handler();
    GENERATION.load(Ordering::Acquire)
}

/// Registers the pthread_atfork child handler once; it only bumps the
/// generation, which is all a child needs to start afresh.
pub fn install_fork_handler() {
    ATFORK.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(child));
    });
}

extern "C" fn child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// A value that exists once per process generation, created on first use.
pub struct ForkLocal<T: 'static> {
    slot: AtomicPtr<Slot<T>>,
    init: fn() -> T,
}

struct Slot<T> {
    generation: u64,
    value: T,
}

impl<T: 'static> ForkLocal<T> {
    pub const fn new(init: fn() -> T) -> Self {
        ForkLocal {
            slot: AtomicPtr::new(std::ptr::null_mut()),
            init,
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
