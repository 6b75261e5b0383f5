//! Request-end release (what the extension's RSHUTDOWN does). In a binary of
//! its own: release_all() frees every lease of the process, so it must not
//! run beside other tests' threads.

mod support;

use monei_concurrency_core::{registry, Locker};
use support::*;

#[test]
fn release_all_frees_everything_this_process_holds() {
    let cfg = config(&unique_prefix());
    let a = Locker::new(cfg.clone()).unwrap();
    let b = other_process(&cfg, 1);
    let r1 = a.order(b"x1").unwrap();
    let r2 = a.payment(b"x1", b"p").unwrap();
    assert!(a.lock(&r1, Some(0), None).unwrap());
    assert!(a.lock(&r1, Some(0), None).unwrap());
    let l2 = a.acquire(&r2, Some(0), None).unwrap();
    std::mem::forget(l2); // as after a fatal error: the Rust frame never ran
    assert!(registry::release_all() >= 2);
    assert!(!b.is_locked(&r1).unwrap());
    assert!(!b.is_locked(&r2).unwrap());
    assert!(
        !a.unlock(&r1).unwrap(),
        "unlock after release_all has nothing to free"
    );
}
