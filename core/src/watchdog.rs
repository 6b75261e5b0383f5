//! Lease renewal: one background thread per process keeps renewable leases
//! alive (every ttl/3) while their holder runs, up to `max_hold_ms`.
//!
//! The thread never touches PHP. It does not survive a fork, so it records the
//! generation it was started in and a forked child starts its own on demand.

use crate::process;
use crate::protocol;
use crate::registry::{registry, shared, Held};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static RUNNING_IN: AtomicU64 = AtomicU64::new(0);

/// Retry delay after a renewal failed on a backend error.
const RETRY: Duration = Duration::from_millis(100);
/// Longest sleep between checks, so a missed wake-up never stalls renewal.
const IDLE: Duration = Duration::from_millis(250);

/// Takes on a lease first due for renewal at `due`: starts the thread if
/// needed and wakes it if it would otherwise look too late.
pub(crate) fn watch(due: Instant) {
    ensure_running();
    // The watchdog looks again within IDLE anyway; waking it for every
    // lease would cost a context switch per acquisition.
    if due < Instant::now() + IDLE {
        shared().wake.notify_one();
    }
}

fn ensure_running() {
    let gen = process::generation();
    if RUNNING_IN.swap(gen, Ordering::AcqRel) == gen {
        return;
    }
    // Initialised here, not by the thread: a fork while the thread ran a
    // one-time initialisation would leave it half done in the child.
    once_cell::sync::Lazy::force(&crate::scripts::EXTEND);
    let spawned = std::thread::Builder::new()
        .name("monei-watchdog".into())
        .spawn(move || supervise(gen));
    if spawned.is_err() {
        RUNNING_IN.store(0, Ordering::Release);
    }
}

/// Runs the renewal loop, and runs it again after a panic: a dead watchdog
/// would let every later lease of this process expire under its holder.
/// Each panic is counted (`watchdog_panics`) and logged.
fn supervise(gen: u64) {
    loop {
        match std::panic::catch_unwind(|| run(gen)) {
            Ok(()) => return,
            Err(panic) => {
                crate::stats::inc(|c| &c.watchdog_panics);
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                crate::events::emit("error", "lease watchdog failed and was restarted", || {
                    vec![("error", crate::events::s(why))]
                });
                std::thread::sleep(RETRY);
            }
        }
    }
}

/// Makes the watchdog panic once, at its next round. Tests only.
#[doc(hidden)]
pub fn panic_once_for_test() {
    PANIC_ONCE.store(true, Ordering::Release);
    shared().wake.notify_all();
}

static PANIC_ONCE: AtomicBool = AtomicBool::new(false);

fn run(gen: u64) {
    loop {
        if PANIC_ONCE.swap(false, Ordering::AcqRel) {
            panic!("panic_once_for_test");
        }
        let due = {
            let reg = registry();
            let now = Instant::now();
            let mut next = now + IDLE;
            let mut due: Vec<Arc<Held>> = Vec::new();
            for h in reg.held.values() {
                let st = h.st();
                if !(st.auto_renew || st.claimed) || st.released || st.lost.is_some() {
                    continue;
                }
                if st.next_renew <= now {
                    due.push(h.clone());
                } else {
                    next = next.min(st.next_renew);
                }
            }
            if due.is_empty() {
                let sleep = next.saturating_duration_since(now);
                drop(shared().wake.wait_timeout(reg, sleep));
            }
            due
        };
        if process::generation() != gen {
            return;
        }
        for h in due {
            renew(&h);
        }
    }
}

fn renew(h: &Held) {
    let (mut ttl_ms, renew_until, claimed, auto_renew) = {
        let st = h.st();
        (st.ttl_ms, st.renew_until, st.claimed, st.auto_renew)
    };
    let now = Instant::now();
    if now >= renew_until && !claimed {
        // max_hold_ms reached: stop renewing and let the lease run out.
        h.st().auto_renew = false;
        return;
    }
    if claimed && !auto_renew {
        // A lease with an explicit ttl, handed over with a short claim: it
        // still ends ttl after it was taken, not ttl after this extension.
        let elapsed = now.saturating_duration_since(h.acquired_at).as_millis() as u64;
        ttl_ms = ttl_ms.saturating_sub(elapsed).max(1);
    }
    let result = h
        .endpoint
        .conn()
        .and_then(|mut c| protocol::extend(&mut c, &h.resource, &h.owner, ttl_ms));
    let mut st = h.st();
    match result {
        Ok(true) => {
            st.claimed = false;
            crate::stats::inc(|c| &c.watchdog_renewals);
            st.expires_at = now + Duration::from_millis(ttl_ms);
            st.next_renew = now + Duration::from_millis((ttl_ms / 3).max(1));
        }
        Ok(false) => {
            if !st.released {
                h.mark_lost(&mut st, "expired or taken over while held");
            }
        }
        Err(_) => {
            if Instant::now() >= st.expires_at {
                h.mark_lost(&mut st, "could not be renewed: redis unavailable");
            } else {
                st.next_renew = Instant::now() + RETRY;
            }
        }
    }
}
