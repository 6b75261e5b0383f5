//! Counters and wait/hold histograms for `stats()` and `metrics()`, kept
//! twice: for this process, and pool-wide in a shared memory region that the
//! host maps once before it forks its workers ([`share`]), so every PHP-FPM
//! worker of one master (and every `pcntl_fork` child) adds to the same
//! figures and a scrape of any worker sees them all.
//!
//! The region is plain memory of atomics (no pointers, no heap objects), so
//! a process that dies mid-update cannot leave it inconsistent beyond the
//! one add it did not make. Every figure sits on its own cache line: workers
//! on different CPUs adding to different counters never contend.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Histogram bucket bounds, in seconds (Prometheus `le`).
pub const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// One figure on a cache line of its own.
#[repr(C, align(64))]
pub struct Cell(AtomicU64);

impl Cell {
    const fn new() -> Self {
        Cell(AtomicU64::new(0))
    }

    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn clear(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

#[repr(C)]
pub struct Histogram {
    /// Non-cumulative counts per bucket; the last one is +Inf.
    buckets: [Cell; BUCKETS.len() + 1],
    sum_us: Cell,
}

/// A histogram read once: cumulative counts per bound (the last is +Inf,
/// i.e. the total) and the sum in seconds.
pub struct HistogramSnapshot {
    pub cumulative: Vec<u64>,
    pub sum: f64,
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// (`le` label, cumulative count) per bucket, the last one `+Inf`.
    pub fn buckets(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        self.cumulative.iter().enumerate().map(|(i, count)| {
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            (le, *count)
        })
    }
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { Cell::new() }; BUCKETS.len() + 1],
            sum_us: Cell::new(),
        }
    }

    fn bucket_of(d: Duration) -> usize {
        let s = d.as_secs_f64();
        BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len())
    }

    fn observe_at(&self, bucket: usize, d: Duration) {
        self.buckets[bucket].add(1);
        self.sum_us.add(d.as_micros() as u64);
    }

    /// Each bucket is read once and the cumulative counts and the total are
    /// computed from those reads, so they never decrease along the bounds
    /// even while other processes add; the sum may be off by the
    /// observations in flight (at most one per process observing right now).
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut acc = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                acc += b.get();
                acc
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            sum: self.sum_us.get() as f64 / 1e6,
        }
    }

    fn clear(&self) {
        self.buckets.iter().for_each(Cell::clear);
        self.sum_us.clear();
    }
}

macro_rules! counters {
    ($($name:ident: $help:literal,)*) => {
        #[repr(C)]
        pub struct Counters { $(pub $name: Cell,)* }

        impl Counters {
            const fn new() -> Self {
                Counters { $($name: Cell::new(),)* }
            }

            /// (name, help, value) of every counter, in a fixed order.
            pub fn list(&self) -> Vec<(&'static str, &'static str, u64)> {
                vec![$((stringify!($name), $help, self.$name.get()),)*]
            }

            fn clear(&self) {
                $(self.$name.clear();)*
            }
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

/// Which histogram an observation goes to.
#[derive(Clone, Copy)]
pub enum Hist {
    /// From asking for a lock to holding it.
    Wait,
    /// From acquisition to release.
    Hold,
}

/// Every counter and histogram: the layout of both the per-process figures
/// and the shared region's.
#[repr(C)]
pub struct Figures {
    pub counters: Counters,
    wait: Histogram,
    hold: Histogram,
}

impl Figures {
    const fn new() -> Self {
        Figures {
            counters: Counters::new(),
            wait: Histogram::new(),
            hold: Histogram::new(),
        }
    }

    pub fn histogram(&self, h: Hist) -> &Histogram {
        match h {
            Hist::Wait => &self.wait,
            Hist::Hold => &self.hold,
        }
    }

    fn clear(&self) {
        self.counters.clear();
        self.wait.clear();
        self.hold.clear();
    }
}

/// The shared region: a header, then the figures. Mapped zeroed, so every
/// figure starts at 0 without being written.
#[repr(C)]
struct Region {
    /// When the region was created (ms since the Unix epoch): a restart of
    /// the host resets the figures, and this shows when.
    started_unix_ms: u64,
    figures: Figures,
}

/// Bytes the shared region needs.
pub const REGION_BYTES: usize = std::mem::size_of::<Region>();

static LOCAL: Figures = Figures::new();
/// When this process's figures started: at [`share`], else at first use.
static LOCAL_STARTED_UNIX_MS: OnceLock<u64> = OnceLock::new();
static SHARED: AtomicPtr<Region> = AtomicPtr::new(std::ptr::null_mut());

/// Why [`share`] left the figures per process.
#[derive(Debug, PartialEq, Eq)]
pub enum ShareError {
    /// A size of 0 was asked for: sharing is off.
    Disabled,
    /// The size asked for cannot hold the layout.
    TooSmall { bytes: usize, needed: usize },
    /// The system refused the mapping (errno).
    MapFailed(i32),
}

impl std::fmt::Display for ShareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShareError::Disabled => write!(f, "shared metrics are off (size 0)"),
            ShareError::TooSmall { bytes, needed } => write!(
                f,
                "{bytes} bytes cannot hold the metrics layout, which needs {needed}"
            ),
            ShareError::MapFailed(errno) => write!(
                f,
                "mapping the shared metrics region failed: {}",
                std::io::Error::from_raw_os_error(*errno)
            ),
        }
    }
}

/// Maps the shared region of `bytes` (at least [`REGION_BYTES`]) and makes
/// every later add go to it as well. Call once, in the process that later
/// forks (PHP's module startup); processes forked afterwards inherit the
/// mapping, processes started otherwise have their own. On error the
/// figures stay per process. A second call keeps the first region.
pub fn share(bytes: usize) -> Result<(), ShareError> {
    LOCAL_STARTED_UNIX_MS.get_or_init(now_unix_ms);
    if !SHARED.load(Ordering::Acquire).is_null() {
        return Ok(());
    }
    if bytes == 0 {
        return Err(ShareError::Disabled);
    }
    if bytes < REGION_BYTES {
        return Err(ShareError::TooSmall {
            bytes,
            needed: REGION_BYTES,
        });
    }
    // SAFETY: a fresh anonymous mapping; no existing memory is touched. The
    // kernel returns it zero-filled and page-aligned (more than Region's
    // 64-byte alignment), and an all-zero Region is a valid one.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(ShareError::MapFailed(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    }
    let region = p.cast::<Region>();
    // SAFETY: `region` points to a zeroed, writable mapping at least
    // REGION_BYTES long that no other process or thread knows yet.
    unsafe { (*region).started_unix_ms = now_unix_ms() };
    if SHARED
        .compare_exchange(
            std::ptr::null_mut(),
            region,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_err()
    {
        // Another thread shared first: ours is unused.
        // SAFETY: the mapping made above, known to nobody else.
        unsafe { libc::munmap(p, bytes) };
    }
    Ok(())
}

fn shared() -> Option<&'static Region> {
    // SAFETY: once set, the pointer refers to a mapping that is never
    // unmapped (it lives until the process ends) and holds a valid Region;
    // all access after the header is written goes through atomics.
    unsafe { SHARED.load(Ordering::Acquire).as_ref() }
}

/// Whether the figures are pool-wide (the region is mapped).
pub fn is_shared() -> bool {
    shared().is_some()
}

/// The pool-wide figures if shared, else this process's.
pub fn pool() -> &'static Figures {
    shared().map_or(&LOCAL, |r| &r.figures)
}

/// This process's own figures (since it started or was forked).
pub fn process() -> &'static Figures {
    &LOCAL
}

/// When [`pool`]'s figures started counting, in seconds since the Unix epoch.
pub fn started_at() -> f64 {
    let ms = match shared() {
        Some(r) => r.started_unix_ms,
        None => *LOCAL_STARTED_UNIX_MS.get_or_init(now_unix_ms),
    };
    ms as f64 / 1000.0
}

/// Counts one event, e.g. `stats::inc(|c| &c.acquired)`.
#[inline]
pub fn inc(counter: impl Fn(&Counters) -> &Cell) {
    counter(&LOCAL.counters).add(1);
    if let Some(r) = shared() {
        counter(&r.figures.counters).add(1);
    }
}

/// Records a wait or hold time.
#[inline]
pub fn observe(h: Hist, d: Duration) {
    let bucket = Histogram::bucket_of(d);
    LOCAL.histogram(h).observe_at(bucket, d);
    if let Some(r) = shared() {
        r.figures.histogram(h).observe_at(bucket, d);
    }
}

/// A forked child starts its own figures from zero (the shared ones go on).
/// Only atomic stores: safe in a fork handler.
pub fn forget_parent_figures() {
    LOCAL.clear();
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::new();
        for d in [
            Duration::from_micros(100),
            Duration::from_millis(3),
            Duration::from_secs(100),
        ] {
            h.observe_at(Histogram::bucket_of(d), d);
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[3], 2);
        assert_eq!(s.count(), 3);
        assert!((s.sum - 100.0031).abs() < 1e-6);
    }

    #[test]
    fn every_figure_has_a_cache_line_of_its_own() {
        assert_eq!(std::mem::size_of::<Cell>(), 64);
        assert_eq!(std::mem::align_of::<Region>(), 64);
        let figures = std::mem::size_of::<Figures>();
        assert_eq!(figures, 64 * (15 + 2 * (BUCKETS.len() + 2)));
        let default = crate::settings::METRICS_SHM_BYTES;
        let default = default.count_from_text(default.default).unwrap();
        assert!(
            REGION_BYTES as u64 <= default,
            "the default size holds the layout"
        );
    }

    #[test]
    fn a_size_that_cannot_hold_the_layout_is_refused() {
        assert_eq!(share(0), Err(ShareError::Disabled));
        let err = share(REGION_BYTES - 1).unwrap_err();
        assert_eq!(
            err,
            ShareError::TooSmall {
                bytes: REGION_BYTES - 1,
                needed: REGION_BYTES
            }
        );
        assert!(err.to_string().contains("cannot hold"));
    }
}
