//! The lease watchdog survives its own panics. In a test binary of its own:
//! the panic it provokes pauses renewal for every lease of the process.

mod support;

use monei_concurrency_core::stats;
use monei_concurrency_core::{events, watchdog, Locker};
use std::time::Duration;
use support::*;

#[test]
fn a_panicking_watchdog_is_counted_logged_and_restarted() {
    let mut cfg = config(&unique_prefix());
    cfg.lock_ttl_ms = 600;
    let a = Locker::new(cfg.clone()).unwrap();
    let b = other_process(&cfg, 1);
    let res = a.order(b"wd-panic").unwrap();
    events::set_enabled(true);
    let lease = a.acquire(&res, Some(0), None).unwrap();
    let panics = stats::process().counters.watchdog_panics.get();

    watchdog::panic_once_for_test();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stats::process().counters.watchdog_panics.get(), panics + 1);
    let logged = events::drain();
    assert!(
        logged.iter().any(|e| e.level == "error"
            && e.message.contains("watchdog")
            && format!("{:?}", e.context).contains("panic_once_for_test")),
        "{logged:?}"
    );

    // Renewal goes on after the restart: the lease outlives its ttl many times.
    let renewals = stats::process().counters.watchdog_renewals.get();
    std::thread::sleep(Duration::from_millis(2_000));
    assert!(
        lease.is_held().unwrap(),
        "the lease expired after the watchdog panicked"
    );
    assert!(stats::process().counters.watchdog_renewals.get() >= renewals + 5);
    assert!(b.try_acquire(&res, None).unwrap().is_none());
    assert!(lease.release().unwrap());
    events::set_enabled(false);
}
