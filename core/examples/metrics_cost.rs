//! What the figures of one lock cycle cost (`make bench`, scenario 6): the
//! adds an uncontended acquire + release makes (one counter, a wait and a
//! hold observation), in a tight loop, with the figures per process and with
//! the shared region on top, in 1 and in N processes at once (all adding to
//! the same shared cache lines). Prints one JSON object: CPU nanoseconds
//! per cycle's worth of adds (CPU time, so that processes waiting for a CPU
//! when there are more of them than CPUs do not count; what remains in the
//! N-process figure is the cost of cache lines moving between CPUs, in the
//! worst case of every process adding without pause).
//!
//!   metrics_cost <processes> <milliseconds>

use monei_concurrency_core::stats::{self, Hist};
use std::time::{Duration, Instant};

/// The adds of one uncontended lock cycle.
#[inline(never)]
fn one_cycle(d: Duration) {
    stats::inc(|c| &c.acquired);
    stats::observe(Hist::Wait, d);
    stats::observe(Hist::Hold, d);
}

fn cpu_ns() -> u128 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes into our own timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as u128 * 1_000_000_000 + t.tv_nsec as u128
}

/// Runs `procs` forked processes adding for `ms`; mean CPU ns per cycle of adds.
fn measure(procs: usize, ms: u64) -> f64 {
    let mut pipes = Vec::new();
    for _ in 0..procs {
        let mut fds = [0; 2];
        // SAFETY: a fresh pipe; the child only computes, writes 8 bytes and _exits.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            match libc::fork() {
                0 => {
                    let d = Duration::from_micros(300);
                    let until = Instant::now() + Duration::from_millis(ms);
                    let start = cpu_ns();
                    let mut n: u64 = 0;
                    while Instant::now() < until {
                        for _ in 0..1000 {
                            one_cycle(std::hint::black_box(d));
                        }
                        n += 1000;
                    }
                    let ns = (cpu_ns() - start) as f64 / n as f64;
                    let bytes = ns.to_le_bytes();
                    libc::write(fds[1], bytes.as_ptr().cast(), 8);
                    libc::_exit(0);
                }
                pid => assert!(pid > 0),
            }
            libc::close(fds[1]);
        }
        pipes.push(fds[0]);
    }
    let mut total = 0.0;
    for fd in pipes {
        let mut bytes = [0u8; 8];
        // SAFETY: reading 8 bytes from our own pipe.
        unsafe {
            assert_eq!(libc::read(fd, bytes.as_mut_ptr().cast(), 8), 8);
            libc::close(fd);
        }
        total += f64::from_le_bytes(bytes);
    }
    // SAFETY: reaping our own children.
    unsafe { while libc::wait(std::ptr::null_mut()) > 0 {} }
    total / procs as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let procs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let ms: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    // Per process first (no region yet), then with the region mapped; each
    // measured alone and with `procs` processes at once, alternating.
    let mut local = (Vec::new(), Vec::new());
    for _ in 0..3 {
        local.0.push(measure(1, ms));
        local.1.push(measure(procs, ms));
    }
    stats::share(16384).expect("map the shared region");
    let mut shared = (Vec::new(), Vec::new());
    for _ in 0..3 {
        shared.0.push(measure(1, ms));
        shared.1.push(measure(procs, ms));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{{\"procs\":{procs},\"local_1\":{:.2},\"shared_1\":{:.2},\"local_n\":{:.2},\"shared_n\":{:.2}}}",
        med(&mut local.0),
        med(&mut shared.0),
        med(&mut local.1),
        med(&mut shared.1)
    );
}
