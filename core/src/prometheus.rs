//! The Prometheus text exposition (format 0.0.4) of the figures in
//! [`crate::stats`]: the pool-wide ones, with gauges that tell whether they
//! are pool-wide and since when.

use crate::stats::{self, Hist};
use std::fmt::Write;
use std::time::Duration;

const PREFIX: &str = "monei_concurrency_";

/// Every metric, for a process whose configured default lock wait is
/// `lock_wait_limit` (exported so an alert can compare the wait p99 with it).
pub fn text(lock_wait_limit: Duration) -> String {
    let figures = stats::pool();
    let mut out = String::with_capacity(8192);
    for (name, help, value) in figures.counters.list() {
        metric(&mut out, &format!("{name}_total"), "counter", help);
        let _ = writeln!(out, "{PREFIX}{name}_total {value}");
    }
    for (name, help, h) in [
        (
            "lock_wait_seconds",
            "Time from asking for a lock to holding it.",
            Hist::Wait,
        ),
        (
            "lock_hold_seconds",
            "Time a lock was held, from acquisition to release.",
            Hist::Hold,
        ),
    ] {
        let snap = figures.histogram(h).snapshot();
        metric(&mut out, name, "histogram", help);
        for (le, count) in snap.buckets() {
            let _ = writeln!(out, "{PREFIX}{name}_bucket{{le=\"{le}\"}} {count}");
        }
        let _ = writeln!(out, "{PREFIX}{name}_sum {}", snap.sum);
        let _ = writeln!(out, "{PREFIX}{name}_count {}", snap.count());
    }
    for (name, help, value) in [
        (
            "start_time_seconds",
            "When these figures started counting (Unix time); a change means they were reset.",
            stats::started_at(),
        ),
        (
            "metrics_pool_wide",
            "1 if the figures are those of every process forked from one parent (e.g. all PHP-FPM workers of a master), 0 if of this process only.",
            f64::from(u8::from(stats::is_shared())),
        ),
        (
            "lock_wait_limit_seconds",
            "The configured default lock wait (monei_concurrency.lock_wait_ms) of the answering process.",
            lock_wait_limit.as_secs_f64(),
        ),
    ] {
        metric(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{PREFIX}{name} {value}");
    }
    out
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {PREFIX}{name} {help}");
    let _ = writeln!(out, "# TYPE {PREFIX}{name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_follows_its_help_and_type() {
        let out = text(Duration::from_millis(2500));
        let mut declared = std::collections::HashSet::new();
        for line in out.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
                    .unwrap_or(name);
                assert!(
                    declared.contains(family),
                    "{name} has no TYPE line before it"
                );
            }
        }
        assert!(out.contains("monei_concurrency_lock_wait_limit_seconds 2.5\n"));
        assert!(out.contains("monei_concurrency_lock_wait_seconds_bucket{le=\"+Inf\"} "));
    }
}
