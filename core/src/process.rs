//! Process identity across forks.
//!
//! PHP-FPM forks its workers after the extension loaded and `pcntl_fork` forks
//! whenever user code likes. A child must never use its parent's sockets,
//! watchdog thread or held leases, so every such piece of state is tagged with
//! the fork generation it belongs to and ignored (never closed, never released)
//! in any other generation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(1);
static OWNER_SEQ: AtomicU64 = AtomicU64::new(0);
static OWNER_SEED: parking_lot::Mutex<Option<(u64, String)>> = parking_lot::const_mutex(None);
static ATFORK: Once = Once::new();

/// The current fork generation: changes in every forked child.
pub fn generation() -> u64 {
    install_fork_handlers();
    GENERATION.load(Ordering::Acquire)
}

/// A lease owner id, unique across hosts, processes and acquisitions:
/// 64 random bits drawn once per process generation, then a counter.
pub fn next_owner() -> String {
    let gen = generation();
    let mut seed = OWNER_SEED.lock();
    let prefix = match &*seed {
        Some((g, p)) if *g == gen => p.clone(),
        _ => {
            let mut buf = [0u8; 8];
            getrandom::fill(&mut buf).expect("OS random source unavailable");
            let p = format!("{:016x}", u64::from_ne_bytes(buf));
            *seed = Some((gen, p.clone()));
            p
        }
    };
    drop(seed);
    let n = OWNER_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}.{n:x}")
}

/// Registers pthread_atfork handlers once. The prepare/parent/child trio keeps
/// the process-wide mutexes consistent: a fork taken while the watchdog thread
/// held one of them would otherwise leave it locked forever in the child.
pub fn install_fork_handlers() {
    ATFORK.call_once(|| unsafe {
        libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
    });
}

extern "C" fn prepare() {
    crate::registry::lock_for_fork();
    crate::pool::lock_for_fork();
    crate::events::lock_for_fork();
    std::mem::forget(OWNER_SEED.lock());
}

extern "C" fn parent() {
    unsafe { OWNER_SEED.force_unlock() };
    crate::events::unlock_after_fork();
    crate::pool::unlock_after_fork();
    crate::registry::unlock_after_fork();
}

extern "C" fn child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    unsafe { OWNER_SEED.force_unlock() };
    crate::events::unlock_after_fork();
    crate::pool::unlock_after_fork();
    crate::registry::unlock_after_fork();
}
