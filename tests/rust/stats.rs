//! The pool-wide figures: a region mapped before fork() is added to by
//! every child, while each process keeps its own figures too. Its own test
//! binary, because the region is mapped once per process.

use monei_concurrency_core::stats::{self, Hist};
use monei_concurrency_core::{process, prometheus};
use std::time::Duration;

const CHILDREN: u64 = 4;
const EACH: u64 = 20_000;

/// Forks a child that runs `f` and exits 0 if it returns true; returns its pid.
fn fork_child(f: impl FnOnce() -> bool) -> libc::pid_t {
    // SAFETY: the child only touches atomics (no allocation, no lock) before
    // _exit, so the test harness' other threads cannot have left anything
    // it needs locked.
    match unsafe { libc::fork() } {
        0 => unsafe { libc::_exit(if f() { 0 } else { 1 }) },
        pid => {
            assert!(pid > 0, "fork failed");
            pid
        }
    }
}

fn wait_ok(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child {pid} failed: status {status}"
    );
}

#[test]
fn forked_children_add_to_the_shared_figures_and_keep_their_own() {
    process::install_fork_handler();
    stats::share(16384).expect("map the region");
    assert!(stats::is_shared());
    let started = stats::started_at();
    assert!(started > 1.6e9, "a Unix time: {started}");

    stats::inc(|c| &c.acquired);
    let pids: Vec<_> = (0..CHILDREN)
        .map(|_| {
            fork_child(|| {
                // The child's own figures start from zero, the parent's add stays pool-wide.
                let fresh = stats::process().counters.acquired.get() == 0
                    && stats::pool().counters.acquired.get() >= 1;
                for _ in 0..EACH {
                    stats::inc(|c| &c.acquired);
                    stats::observe(Hist::Wait, Duration::from_micros(700));
                }
                fresh && stats::process().counters.acquired.get() == EACH
            })
        })
        .collect();

    // Read while the children add: cumulative buckets never decrease and
    // the count is never below a bucket.
    let mut reads = 0;
    while reads < 2_000 {
        let s = stats::pool().histogram(Hist::Wait).snapshot();
        assert!(s.cumulative.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(s.count(), *s.cumulative.last().unwrap());
        reads += 1;
    }
    pids.into_iter().for_each(wait_ok);

    let pool = stats::pool();
    assert_eq!(pool.counters.acquired.get(), 1 + CHILDREN * EACH);
    assert_eq!(stats::process().counters.acquired.get(), 1);
    let wait = pool.histogram(Hist::Wait).snapshot();
    assert_eq!(wait.count(), CHILDREN * EACH);
    // 700 us falls in the (0.5 ms, 1 ms] bucket.
    assert_eq!(wait.cumulative[0], 0);
    assert_eq!(wait.cumulative[1], CHILDREN * EACH);
    assert!((wait.sum - (CHILDREN * EACH) as f64 * 0.0007).abs() < 1e-6);
    assert_eq!(
        stats::started_at(),
        started,
        "the start time is the region's"
    );

    let text = prometheus::text(Duration::from_secs(10));
    assert!(text.contains(&format!(
        "monei_concurrency_acquired_total {}\n",
        1 + CHILDREN * EACH
    )));
    assert!(text.contains("monei_concurrency_metrics_pool_wide 1\n"));

    // A second share() keeps the region (and its figures).
    stats::share(16384).unwrap();
    assert_eq!(stats::pool().counters.acquired.get(), 1 + CHILDREN * EACH);
}
