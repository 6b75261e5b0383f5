//! Holder records, listing, forced unlock and counters against a real redis-server.

mod support;

use monei_concurrency_core::{events, holder, key, monitor, stats, Error, Locker};
use support::*;

#[test]
fn inspect_shows_the_holder() {
    let cfg = config(&unique_prefix());
    let a = Locker::new(cfg.clone()).unwrap();
    let res = a.payment(b"100000123", b"pay_abc").unwrap();
    assert_eq!(a.inspect(&res).unwrap(), None);
    holder::set_request("/monei/webhook\tPOST");
    let lease = a.acquire(&res, Some(0), Some(10_000)).unwrap();
    let info = a.inspect(&res).unwrap().expect("held");
    assert_eq!(info.resource, "payment:100000123:pay_abc");
    assert_eq!(info.token, lease.token());
    assert_eq!(info.pid, std::process::id() as i64);
    assert_eq!(
        info.request, "/monei/webhook POST",
        "control characters are cleaned"
    );
    assert!(!info.host.is_empty());
    assert!(info.ttl_ms > 9_000 && info.ttl_ms <= 10_000);
    assert!(info.since_ms > 1_600_000_000_000);
    assert_eq!(info.waiters, 0);
    lease.release().unwrap();
    assert_eq!(a.inspect(&res).unwrap(), None);
}

#[test]
fn list_finds_held_locks_oldest_first_and_filters() {
    let cfg = config(&unique_prefix());
    let a = Locker::new(cfg.clone()).unwrap();
    let first = a.acquire(&a.order(b"1").unwrap(), Some(0), None).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = a
        .acquire(&a.payment(b"1", b"p:x").unwrap(), Some(0), None)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let third = a.acquire(&a.order(b"2").unwrap(), Some(0), None).unwrap();
    let all = monitor::list(&cfg, None, 100).unwrap();
    let names: Vec<&str> = all.iter().map(|l| l.resource.as_str()).collect();
    assert_eq!(names, ["order:1", "payment:1:p:x", "order:2"]);
    assert_eq!(all[1].token, second.token());
    let orders = monitor::list(&cfg, Some("order:*"), 100).unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(monitor::list(&cfg, None, 1).unwrap().len(), 1);
    assert!(matches!(
        monitor::list(&cfg, None, 0),
        Err(Error::InvalidArgument(_))
    ));
    drop((first, second, third));
    assert!(monitor::list(&cfg, None, 100).unwrap().is_empty());
}

/// Many held locks: the listing keeps only `limit` of them and, when the
/// walk takes longer than the I/O timeout, fails as a backend error instead
/// of running on (or returning a list it did not finish).
#[test]
fn list_is_bounded_by_limit_and_by_the_io_timeout() {
    let mut cfg = config(&unique_prefix());
    let mut raw = raw(&cfg.redis_url);
    let n: i64 = 5_000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        let res = key::Resource::order(&cfg.key_prefix, format!("{i}").as_bytes()).unwrap();
        // Held since i ms after the epoch, so the oldest are orders 0, 1, 2, ...
        pipe.cmd("HSET")
            .arg(res.lock_key())
            .arg("owner")
            .arg("o")
            .arg("token")
            .arg(1)
            .arg("since")
            .arg(i)
            .arg("holder")
            .arg("h\t1\tr")
            .ignore()
            .cmd("PEXPIRE")
            .arg(res.lock_key())
            .arg(120_000)
            .ignore();
    }
    let _: () = pipe.query(&mut raw).unwrap();

    let oldest = monitor::list(&cfg, None, 3).unwrap();
    let names: Vec<&str> = oldest.iter().map(|l| l.resource.as_str()).collect();
    assert_eq!(names, ["order:0", "order:1", "order:2"]);

    cfg.io_timeout_ms = 50;
    let started = std::time::Instant::now();
    match monitor::list(&cfg, None, 3) {
        Err(Error::Backend { detail, .. }) => assert!(detail.contains("io_timeout_ms"), "{detail}"),
        other => panic!(
            "walking {n} locks within 50 ms gave {:?}",
            other.map(|v| v.len())
        ),
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "gave up after {took:?}"
    );

    let mut pipe = redis::pipe();
    for i in 0..n {
        let res = key::Resource::order(&cfg.key_prefix, format!("{i}").as_bytes()).unwrap();
        pipe.cmd("DEL").arg(res.lock_key()).ignore();
    }
    let _: () = pipe.query(&mut raw).unwrap();
}

#[test]
fn force_unlock_frees_hands_off_and_the_holder_sees_the_loss() {
    let cfg = config(&unique_prefix());
    let holder_proc = other_process(&cfg, 1);
    let operator = other_process(&cfg, 2);
    let res = holder_proc.order(b"stuck").unwrap();
    let lease = holder_proc.acquire(&res, Some(0), Some(60_000)).unwrap();
    let before = stats::process().counters.forced_unlocks.get();
    assert!(operator.force_unlock(&res).unwrap());
    assert!(
        !operator.force_unlock(&res).unwrap(),
        "nothing left to free"
    );
    assert!(stats::process().counters.forced_unlocks.get() > before);
    assert!(!lease.is_held().unwrap());
    assert!(matches!(lease.extend(1000), Err(Error::LockLost { .. })));
    assert!(!lease.release().unwrap());
    let mut con = raw(&cfg.redis_url);
    let forced: Vec<String> = redis::cmd("HMGET")
        .arg(format!("{}{{stuck}}:order:forced", cfg.key_prefix))
        .arg("by")
        .arg("at")
        .query(&mut con)
        .unwrap();
    assert!(
        forced[0].contains(&std::process::id().to_string()),
        "{forced:?}"
    );
    assert!(forced[1].parse::<i64>().unwrap() > 0);
}

#[test]
fn counters_and_events_follow_what_happens() {
    let cfg = config(&unique_prefix());
    let a = Locker::new(cfg.clone()).unwrap();
    let b = other_process(&cfg, 1);
    let res = a.order(b"count").unwrap();
    events::set_enabled(true);
    let acquired = stats::process().counters.acquired.get();
    let reentered = stats::process().counters.reentered.get();
    let timeouts = stats::process().counters.timeouts.get();
    let outer = a.acquire(&res, Some(0), None).unwrap();
    let inner = a.acquire(&res, Some(0), None).unwrap();
    assert!(matches!(
        b.acquire(&res, Some(50), None),
        Err(Error::LockTimeout { .. })
    ));
    drop(inner);
    drop(outer);
    assert!(stats::process().counters.acquired.get() > acquired);
    assert!(stats::process().counters.reentered.get() > reentered);
    assert!(stats::process().counters.timeouts.get() > timeouts);
    let evs = events::drain();
    assert!(evs
        .iter()
        .any(|e| e.message == "lock wait timed out" && e.level == "warning"));
    assert!(evs.iter().any(|e| e.message == "lock acquired"));
    let text = monei_concurrency_core::prometheus::text(std::time::Duration::from_secs(1));
    assert!(text.contains("# TYPE monei_concurrency_acquired_total counter"));
    assert!(text.contains("monei_concurrency_lock_wait_seconds_bucket{le=\"+Inf\"}"));
    events::set_enabled(false);
    a.acquire(&res, Some(0), None).unwrap().release().unwrap();
    assert!(
        events::drain().is_empty(),
        "no events while no logger is installed"
    );
}
