//! Polling a socket for a reply before going to sleep in `read()`.
//!
//! A lock cycle is two round trips to Redis, and on a virtual machine most of
//! a loopback round trip is the wake-up of the thread that slept waiting for
//! the reply (a halted virtual CPU has to be woken by the hypervisor): on the
//! 2-core machine of the benchmark a phpredis PING takes about 88 µs, the same
//! PING polled for takes about 30 µs. So the connection polls for up to
//! `reply_spin_us` first, yielding the CPU on every turn so that a runnable
//! process is never kept waiting by it. When replies keep arriving later than
//! that (Redis across a network, a slow command) polling backs off and costs
//! nothing: a miss skips polling for the next 1, 2, 4 … 256 replies, and a
//! reply caught while polling resets that.

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// After this many misses in a row, polling is tried once per this many replies.
const MAX_SKIP: u32 = 256;

/// A yield that took this long gave the CPU to another task: stop polling.
const BUSY_YIELD: Duration = Duration::from_micros(20);

/// How long to poll before each read, learning from the replies seen so far.
#[derive(Debug, Clone)]
pub struct SpinPolicy {
    budget: Duration,
    /// Replies still to be read without polling, after a miss.
    skip: u32,
    /// What the next miss sets `skip` to.
    next_skip: u32,
}

impl SpinPolicy {
    pub fn new(budget_us: u64) -> Self {
        SpinPolicy {
            budget: Duration::from_micros(budget_us),
            skip: 0,
            next_skip: 1,
        }
    }

    /// How long to poll before the next read (zero: sleep in read() at once).
    pub fn budget(&mut self) -> Duration {
        if self.skip > 0 {
            self.skip -= 1;
            return Duration::ZERO;
        }
        self.budget
    }

    /// Records whether polling caught the reply.
    pub fn record(&mut self, caught: bool) {
        if caught {
            self.next_skip = 1;
        } else {
            self.skip = self.next_skip;
            self.next_skip = (self.next_skip * 2).min(MAX_SKIP);
        }
    }
}

/// Polls `fd` until it has something for `read()` (data, end of stream or an
/// error) or `budget` has passed. True if `read()` will not sleep.
pub fn poll_readable(fd: RawFd, budget: Duration) -> bool {
    let start = Instant::now();
    loop {
        let mut byte = 0u8;
        // SAFETY: a one-byte peek into a local buffer on a socket we own.
        let n = unsafe {
            libc::recv(
                fd,
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n >= 0 {
            return true;
        }
        let err = io::Error::last_os_error();
        if !matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        ) {
            return true;
        }
        let before = Instant::now();
        if before.duration_since(start) >= budget {
            return false;
        }
        std::thread::yield_now();
        if before.elapsed() >= BUSY_YIELD {
            // Another task ran in the meantime: this CPU is wanted, sleep.
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_budget_never_polls() {
        let mut p = SpinPolicy::new(0);
        for _ in 0..10 {
            assert_eq!(p.budget(), Duration::ZERO);
            p.record(false);
        }
    }

    #[test]
    fn misses_back_off_exponentially_up_to_the_cap() {
        let mut p = SpinPolicy::new(100);
        let mut polled = Vec::new();
        for i in 0..2000 {
            if p.budget() > Duration::ZERO {
                polled.push(i);
                p.record(false);
            }
        }
        // Polls at 0, then after skipping 1, 2, 4, … 256, 256, …
        assert_eq!(&polled[..6], &[0, 2, 5, 10, 19, 36]);
        let gaps: Vec<u32> = polled.windows(2).map(|w| w[1] - w[0] - 1).collect();
        assert!(gaps.iter().all(|&g| g <= MAX_SKIP), "{gaps:?}");
        assert_eq!(*gaps.last().unwrap(), MAX_SKIP);
    }

    #[test]
    fn a_caught_reply_resets_the_back_off() {
        let mut p = SpinPolicy::new(100);
        for _ in 0..5 {
            while p.budget() == Duration::ZERO {}
            p.record(false);
        }
        while p.budget() == Duration::ZERO {}
        p.record(true);
        assert_eq!(
            p.budget(),
            Duration::from_micros(100),
            "polls again at once"
        );
        p.record(false);
        assert_eq!(p.budget(), Duration::ZERO, "one miss skips one reply");
        assert_eq!(p.budget(), Duration::from_micros(100));
    }

    #[test]
    fn poll_sees_data_and_end_of_stream_and_gives_up_in_time() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        use std::os::unix::net::UnixStream;
        let (mut a, b) = UnixStream::pair().unwrap();
        // Nothing to read: gives up after the budget (or sooner, when another
        // task wanted the CPU), never waits for data.
        let t = Instant::now();
        assert!(!poll_readable(b.as_raw_fd(), Duration::from_micros(300)));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        a.write_all(b"+OK\r\n").unwrap();
        assert!(poll_readable(b.as_raw_fd(), Duration::from_secs(5)));
        let (c, d) = UnixStream::pair().unwrap();
        drop(c);
        assert!(
            poll_readable(d.as_raw_fd(), Duration::from_secs(5)),
            "EOF is readable"
        );
    }
}
