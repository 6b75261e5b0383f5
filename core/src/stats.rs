//! Per-process counters and wait/hold histograms since the process started,
//! for `stats()` and the Prometheus text of `metrics()`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Histogram bucket bounds, in seconds (Prometheus `le`).
pub const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

pub struct Histogram {
    /// Non-cumulative counts per bucket; the last one is +Inf.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len() + 1],
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// Cumulative counts per bound (the last is +Inf, i.e. the total) and the sum in seconds.
    pub fn snapshot(&self) -> (Vec<u64>, f64) {
        let mut acc = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                acc += b.load(Ordering::Relaxed);
                acc
            })
            .collect();
        (cumulative, self.sum_us.load(Ordering::Relaxed) as f64 / 1e6)
    }
}

macro_rules! counters {
    ($($name:ident: $help:literal,)*) => {
        pub struct Counters { $(pub $name: AtomicU64,)* }
        pub static COUNTERS: Counters = Counters { $($name: AtomicU64::new(0),)* };
        /// (name, help, value) of every counter, in a fixed order.
        pub fn counters() -> Vec<(&'static str, &'static str, u64)> {
            vec![$((stringify!($name), $help, COUNTERS.$name.load(Ordering::Relaxed)),)*]
        }
    };
}

counters! {
    acquired: "Locks taken from Redis (not counting re-entries).",
    reentered: "Acquisitions of a lock this process already held.",
    contended: "Acquisitions that found the lock held and had to wait or give up.",
    timeouts: "Waits for a lock that ran out.",
    lost_leases: "Leases found lost: expired or taken over while held.",
    watchdog_renewals: "Lease renewals done by the watchdog.",
    watchdog_panics: "Times the lease watchdog thread panicked and was restarted.",
    backend_errors: "Calls that failed because Redis was unreachable, slow or refused.",
    forced_unlocks: "Locks freed with forceUnlock().",
    idempotency_hits: "once() calls answered with a stored result.",
    idempotency_misses: "once() calls that ran their callback.",
    idempotency_conflicts: "once() calls refused: in progress elsewhere or fingerprint mismatch.",
    idempotency_claims_lost: "once() callbacks whose claim ended while they ran (result not stored).",
    state_rejections: "advance() calls refused as duplicate, stale or unreachable.",
    state_advances: "advance() calls applied.",
}

pub static WAIT: Histogram = Histogram::new();
pub static HOLD: Histogram = Histogram::new();

pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Prometheus text exposition of everything above.
pub fn prometheus() -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(4096);
    for (name, help, value) in counters() {
        let _ = writeln!(out, "# HELP monei_concurrency_{name}_total {help}");
        let _ = writeln!(out, "# TYPE monei_concurrency_{name}_total counter");
        let _ = writeln!(out, "monei_concurrency_{name}_total {value}");
    }
    for (name, help, h) in [
        (
            "lock_wait_seconds",
            "Time from asking for a lock to holding it.",
            &WAIT,
        ),
        (
            "lock_hold_seconds",
            "Time a lock was held, from acquisition to release.",
            &HOLD,
        ),
    ] {
        let (cumulative, sum) = h.snapshot();
        let _ = writeln!(out, "# HELP monei_concurrency_{name} {help}");
        let _ = writeln!(out, "# TYPE monei_concurrency_{name} histogram");
        for (i, count) in cumulative.iter().enumerate() {
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "monei_concurrency_{name}_bucket{{le=\"{le}\"}} {count}"
            );
        }
        let _ = writeln!(out, "monei_concurrency_{name}_sum {sum}");
        let _ = writeln!(
            out,
            "monei_concurrency_{name}_count {}",
            cumulative.last().copied().unwrap_or(0)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(100));
        let (c, sum) = h.snapshot();
        assert_eq!(c[0], 1);
        assert_eq!(c[3], 2);
        assert_eq!(*c.last().unwrap(), 3);
        assert!((sum - 100.0031).abs() < 1e-6);
    }
}
