//! Lock protocol against a real redis-server.

mod support;

use monei_concurrency_core::error::Arg;
use monei_concurrency_core::stats;
use monei_concurrency_core::{Config, Error, ExecError, Locker};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use support::*;

fn setup() -> (Config, Locker) {
    let cfg = config(&unique_prefix());
    let l = Locker::new(cfg.clone()).unwrap();
    (cfg, l)
}

#[test]
fn acquire_release_and_exclusion() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"100000123").unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    assert_eq!(lease.resource(), "order:100000123");
    assert!(a.is_locked(&res).unwrap());
    assert!(b.try_acquire(&res, None).unwrap().is_none());
    assert!(lease.is_held().unwrap());
    assert!(lease.release().unwrap());
    assert!(!lease.release().unwrap(), "second release reports false");
    assert!(!a.is_locked(&res).unwrap());
    assert!(b.try_acquire(&res, None).unwrap().is_some());
}

#[test]
fn scripts_flushed_by_the_server_are_loaded_again() {
    let (_cfg, a) = setup();
    let res = a.order(b"1").unwrap();
    let mut r = raw(&redis_url());
    let lease = a.acquire(&res, Some(0), None).unwrap();
    // As after a restart or failover: the server no longer knows our SHA1s.
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut r).unwrap();
    assert!(lease.is_held().unwrap());
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut r).unwrap();
    assert!(lease.release().unwrap());
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut r).unwrap();
    assert!(a.try_acquire(&res, None).unwrap().is_some());
}

#[test]
fn unlock_by_non_owner_frees_nothing() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"1").unwrap();
    assert!(a.lock(&res, Some(0), None).unwrap());
    assert!(!b.unlock(&res).unwrap());
    assert!(b.is_locked(&res).unwrap());
    assert!(a.unlock(&res).unwrap());
    assert!(!a.unlock(&res).unwrap());
    assert!(!b.is_locked(&res).unwrap());
}

#[test]
fn payment_and_order_locks_are_independent() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let order = a.order(b"7").unwrap();
    let pay = a.payment(b"7", b"pay_1").unwrap();
    let _o = a.acquire(&order, Some(0), None).unwrap();
    let p = b.try_acquire(&pay, None).unwrap();
    assert!(
        p.is_some(),
        "payment lock must not be blocked by the order lock"
    );
}

#[test]
fn waiter_is_woken_by_release_not_by_its_deadline() {
    let (cfg, a) = setup();
    let res = a.order(b"w").unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    let cfg2 = cfg.clone();
    let res2 = res.clone();
    let waiter = std::thread::spawn(move || {
        let b = other_process(&cfg2, 1);
        let l = b.acquire(&res2, Some(20_000), None).unwrap();
        (Instant::now(), l.token())
    });
    std::thread::sleep(Duration::from_millis(150));
    let first = lease.token();
    let releasing = Instant::now();
    assert!(lease.release().unwrap());
    let (acquired_at, token) = waiter.join().unwrap();
    assert!(
        acquired_at >= releasing,
        "acquired while the lock was still held"
    );
    let after = acquired_at - releasing;
    assert!(
        after < Duration::from_secs(10),
        "waiter slept toward its 20 s deadline instead of being woken ({after:?} after release)"
    );
    assert!(token > first);
}

#[test]
fn wait_runs_out_with_timeout() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"t").unwrap();
    let _held = a.acquire(&res, Some(0), None).unwrap();
    let t = Instant::now();
    match b.acquire(&res, Some(250), None) {
        Err(Error::LockTimeout { resource, .. }) => assert_eq!(resource, "order:t"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("acquired a held lock"),
    }
    assert!(t.elapsed() >= Duration::from_millis(250));
    // The timed-out waiter left the queue: a later release must not hand it the lock.
    drop(_held);
    assert!(b.try_acquire(&res, None).unwrap().is_some());
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let (cfg, a) = setup();
    let res = a.order(b"fifo").unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for n in 1..=4u32 {
        let (cfg, res, order) = (cfg.clone(), res.clone(), order.clone());
        threads.push(std::thread::spawn(move || {
            let l = other_process(&cfg, n);
            let lease = l.acquire(&res, Some(20_000), None).unwrap();
            order.lock().unwrap().push(n);
            std::thread::sleep(Duration::from_millis(20));
            lease.release().unwrap();
        }));
        // Let each one queue before the next arrives.
        std::thread::sleep(Duration::from_millis(100));
    }
    lease.release().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![1, 2, 3, 4]);
}

#[test]
fn lease_of_a_dead_holder_expires_and_wakes_the_waiter() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"dead").unwrap();
    let lease = a.acquire(&res, Some(0), Some(300)).unwrap();
    std::mem::forget(lease); // the holder "dies": never releases, never renews
    let t = Instant::now();
    let l = b.acquire(&res, Some(5_000), None).unwrap();
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_millis(2_000), "{waited:?}");
    drop(l);
}

#[test]
fn fencing_tokens_increase_across_holders_and_counter_loss() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"fence").unwrap();
    let mut last = 0;
    for i in 0..20 {
        let l = if i % 2 == 0 { &a } else { &b };
        let lease = l.acquire(&res, Some(1000), None).unwrap();
        assert!(lease.token() > last, "{} <= {last}", lease.token());
        last = lease.token();
        lease.release().unwrap();
    }
    // Even if Redis loses the counter, tokens keep rising (seeded from Redis time).
    let mut con = raw(&cfg.redis_url);
    let fence = format!("{}{{fence}}:order:fence", cfg.key_prefix);
    let _: () = redis::cmd("DEL").arg(&fence).query(&mut con).unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    assert!(lease.token() > last);
}

#[test]
fn reentrant_in_one_process() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"re").unwrap();
    let outer = a.acquire(&res, Some(0), None).unwrap();
    // A second object of the same process re-enters too.
    let a2 = Locker::new(cfg.clone()).unwrap();
    let inner = a2.acquire(&res, Some(0), None).unwrap();
    assert_eq!(inner.token(), outer.token());
    assert!(inner.release().unwrap());
    assert!(
        b.try_acquire(&res, None).unwrap().is_none(),
        "inner release must not free it"
    );
    assert!(outer.release().unwrap());
    assert!(b.try_acquire(&res, None).unwrap().is_some());
}

/// The same server and database spelled differently (trailing `/0`, the
/// default user named, `localhost` for `127.0.0.1`, a query string) is the
/// same lock: the process re-enters it instead of waiting on itself.
#[test]
fn reentrant_through_every_spelling_of_the_same_server() {
    let (cfg, a) = setup();
    let res = a.order(b"spelling").unwrap();
    let outer = a.acquire(&res, Some(0), None).unwrap();
    let base = cfg.redis_url.trim_end_matches('/').to_string();
    let port = base.rsplit(':').next().unwrap().to_string();
    for url in [
        format!("{base}/0"),
        format!("redis://default@127.0.0.1:{port}"),
        format!("redis://localhost:{port}/0"),
        format!("redis://LOCALHOST:{port}?protocol=resp2"),
    ] {
        let other = Locker::new(Config {
            redis_url: url.clone(),
            ..cfg.clone()
        })
        .unwrap();
        let started = Instant::now();
        let inner = other
            .acquire(&res, Some(300), None)
            .unwrap_or_else(|e| panic!("{url} did not re-enter: {e}"));
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "{url} waited"
        );
        assert_eq!(inner.token(), outer.token(), "{url}");
        assert!(inner.release().unwrap());
    }
    // Another database of the same server is another lock.
    let db1 = Locker::new(Config {
        redis_url: format!("{base}/1"),
        ..cfg.clone()
    })
    .unwrap();
    let elsewhere = db1.try_acquire(&res, None).unwrap().expect("db 1 is free");
    assert_ne!(elsewhere.token(), 0);
    assert!(elsewhere.release().unwrap());
    assert!(outer.release().unwrap());
}

#[test]
fn lock_twice_unlock_twice() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"twice").unwrap();
    assert!(a.lock(&res, Some(0), None).unwrap());
    assert!(a.lock(&res, Some(0), None).unwrap());
    assert!(a.unlock(&res).unwrap());
    assert!(b.is_locked(&res).unwrap());
    assert!(a.unlock(&res).unwrap());
    assert!(!b.is_locked(&res).unwrap());
}

#[test]
fn watchdog_keeps_a_lease_without_ttl_alive() {
    let mut cfg = config(&unique_prefix());
    cfg.lock_ttl_ms = 300;
    let a = Locker::new(cfg.clone()).unwrap();
    let b = other_process(&cfg, 1);
    let res = a.order(b"wd").unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    let renewals = stats::process().counters.watchdog_renewals.get();
    let mut raw = raw(&cfg.redis_url);
    // Sampled every 100 ms for 1 s (3 x ttl): the key never comes near its
    // end, so something renews it, and the watchdog counts those renewals.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        let pttl: i64 = redis::cmd("PTTL")
            .arg(res.lock_key())
            .query(&mut raw)
            .unwrap();
        assert!(
            pttl > 50,
            "the lease was not renewed in time (pttl {pttl} ms)"
        );
    }
    assert!(
        stats::process().counters.watchdog_renewals.get() >= renewals + 5,
        "the watchdog renewed fewer than 5 times in 3 x ttl"
    );
    assert!(
        lease.is_held().unwrap(),
        "renewed lease must survive 3 x ttl"
    );
    assert!(b.try_acquire(&res, None).unwrap().is_none());
    assert!(lease.release().unwrap());
}

#[test]
fn explicit_ttl_is_not_renewed_and_loss_is_reported() {
    let (_cfg, a) = setup();
    let res = a.order(b"ttl").unwrap();
    let r = a.execute(&res, Some(0), Some(200), |_| {
        std::thread::sleep(Duration::from_millis(500));
        Ok::<_, ()>(42)
    });
    match r {
        Err(ExecError::Core(Error::LockLost { .. })) => {}
        _ => panic!("expected LockLost after the callback outlived its ttl"),
    }
    let lease = a.acquire(&res, Some(0), Some(100)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!lease.is_held().unwrap());
    assert!(matches!(lease.extend(1000), Err(Error::LockLost { .. })));
}

#[test]
fn callback_error_wins_and_lock_is_released() {
    let (cfg, a) = setup();
    let b = other_process(&cfg, 1);
    let res = a.order(b"cb").unwrap();
    let r = a.execute(&res, Some(0), None, |_| Err::<(), _>("boom"));
    assert!(matches!(r, Err(ExecError::Callback("boom"))));
    assert!(b.try_acquire(&res, None).unwrap().is_some());
}

#[test]
fn watchdog_stops_at_max_hold() {
    let mut cfg = config(&unique_prefix());
    cfg.lock_ttl_ms = 200;
    cfg.max_hold_ms = 400;
    let a = Locker::new(cfg.clone()).unwrap();
    let res = a.order(b"max").unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    std::thread::sleep(Duration::from_millis(1_000));
    assert!(
        !lease.is_held().unwrap(),
        "lease must run out after max_hold_ms + ttl"
    );
}

#[test]
fn a_lock_without_expiry_still_reads_as_held() {
    // Someone ran PERSIST on the lock: it is held until deleted, so isHeld()
    // must agree with extend(), which succeeds.
    let (cfg, a) = setup();
    let res = a.order(b"persist").unwrap();
    let lease = a.acquire(&res, Some(0), Some(5_000)).unwrap();
    let persisted: bool = redis::cmd("PERSIST")
        .arg(res.lock_key())
        .query(&mut raw(&cfg.redis_url))
        .unwrap();
    assert!(persisted);
    assert!(lease.is_held().unwrap());
    assert_eq!(lease.remaining_ms().unwrap(), i64::MAX as u64);
    lease.extend(5_000).unwrap();
    let rem = lease.remaining_ms().unwrap();
    assert!(rem > 4_000 && rem <= 5_000, "{rem}");
    assert!(lease.release().unwrap());
    assert_eq!(lease.remaining_ms().unwrap(), 0);
}

#[test]
fn extend_moves_the_expiry() {
    let (_cfg, a) = setup();
    let res = a.order(b"ext").unwrap();
    let lease = a.acquire(&res, Some(0), Some(200)).unwrap();
    lease.extend(5_000).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert!(lease.is_held().unwrap());
    let rem = lease.remaining_ms().unwrap();
    assert!(rem > 3_000 && rem <= 5_000, "{rem}");
}

#[test]
fn wait_for_unlock_is_woken() {
    let (cfg, a) = setup();
    let res = a.order(b"wfu").unwrap();
    let b = other_process(&cfg, 1);
    assert!(
        b.wait_for_unlock(&res, 0).unwrap(),
        "free lock: true at once"
    );
    let lease = a.acquire(&res, Some(0), None).unwrap();
    assert!(
        !a.wait_for_unlock(&res, 1_000).unwrap(),
        "own lock: false at once"
    );
    assert!(!b.wait_for_unlock(&res, 100).unwrap());
    let (cfg2, res2) = (cfg.clone(), res.clone());
    let t = std::thread::spawn(move || {
        let c = other_process(&cfg2, 2);
        let start = Instant::now();
        (c.wait_for_unlock(&res2, 20_000).unwrap(), start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(150));
    lease.release().unwrap();
    let (ok, waited) = t.join().unwrap();
    assert!(ok);
    assert!(waited < Duration::from_secs(10));
    assert!(!b.is_locked(&res).unwrap());
}

#[test]
fn many_threads_as_processes_never_overlap() {
    let (cfg, a) = setup();
    let res = a.order(b"mx").unwrap();
    let inside = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let overlaps = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8u32)
        .map(|n| {
            let (cfg, res, inside, overlaps, barrier) = (
                cfg.clone(),
                res.clone(),
                inside.clone(),
                overlaps.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let l = other_process(&cfg, n);
                barrier.wait();
                for _ in 0..25 {
                    l.execute(&res, Some(30_000), None, |_| {
                        if inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) != 0 {
                            overlaps.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        std::thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        Ok::<_, ()>(())
                    })
                    .unwrap_or_else(|e| match e {
                        ExecError::Core(e) => panic!("execute failed: {e}"),
                        ExecError::Callback(()) => panic!("callback failed"),
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(overlaps.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn fails_closed_when_redis_is_unreachable() {
    let mut cfg = config(&unique_prefix());
    cfg.redis_url = format!("redis://127.0.0.1:{}", free_port());
    cfg.connect_timeout_ms = 200;
    let a = Locker::new(cfg).unwrap();
    let res = a.order(b"down").unwrap();
    let mut ran = false;
    let t = Instant::now();
    let r = a.execute(&res, Some(0), None, |_| {
        ran = true;
        Ok::<_, ()>(())
    });
    assert!(matches!(r, Err(ExecError::Core(Error::Backend { .. }))));
    assert!(!ran, "callback must never run without the lock");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn recovers_after_redis_restarts() {
    let mut server = RedisServer::start();
    let port = server.port;
    let mut cfg = server.config();
    cfg.connect_timeout_ms = 300;
    let a = Locker::new(cfg).unwrap();
    let res = a.order(b"restart").unwrap();
    a.acquire(&res, Some(0), None).unwrap().release().unwrap();
    server.stop();
    assert!(matches!(
        a.acquire(&res, Some(0), None),
        Err(Error::Backend { .. })
    ));
    let _server = RedisServer::start_on(port);
    // The pooled connection is dead; the next call must reconnect by itself.
    let lease = a.acquire(&res, Some(0), None).unwrap();
    assert!(lease.release().unwrap());
}

#[test]
fn a_release_redis_never_got_leaves_the_process_holding_nothing() {
    let mut server = RedisServer::start();
    let port = server.port;
    let mut cfg = server.config();
    cfg.connect_timeout_ms = 200;
    let a = Locker::new(cfg).unwrap();
    let res = a.order(b"unsent").unwrap();
    let lease = a.acquire(&res, Some(0), Some(60_000)).unwrap();
    server.stop();
    // That call drops the pooled connection: the release cannot even connect.
    assert!(a.is_locked(&res).is_err());
    assert!(matches!(lease.release(), Err(Error::Backend { .. })));
    let _server = RedisServer::start_on(port);
    // The restarted server holds no lock, and this process must not believe
    // it still holds one (waitForUnlock() would then give up at once).
    assert!(a.wait_for_unlock(&res, 0).unwrap());
}

#[test]
fn stale_pooled_connection_is_replaced_transparently() {
    let mut server = RedisServer::start();
    let port = server.port;
    let a = Locker::new(server.config()).unwrap();
    let res = a.order(b"stale").unwrap();
    a.acquire(&res, Some(0), None).unwrap().release().unwrap();
    server.stop();
    let _server = RedisServer::start_on(port);
    // Redis restarted while the connection sat idle: no error surfaces.
    assert!(!a.is_locked(&res).unwrap());
}

#[test]
fn wrong_password_is_a_backend_error_without_the_secret() {
    let server = RedisServer::start();
    let mut con = raw(&server.url());
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("right")
        .query(&mut con)
        .unwrap();
    let mut cfg = config(&unique_prefix());
    cfg.redis_url = format!("redis://:hunter2@127.0.0.1:{}", server.port);
    let a = Locker::new(cfg).unwrap();
    let res = a.order(b"auth").unwrap();
    match a.acquire(&res, Some(0), None) {
        Err(e @ Error::Backend { .. }) => assert!(!e.to_string().contains("hunter2"), "{e}"),
        _ => panic!("expected a backend error"),
    }
}

#[test]
fn bad_arguments_are_rejected() {
    let (_cfg, a) = setup();
    assert!(matches!(a.order(b""), Err(Error::InvalidArgument(_))));
    assert!(matches!(
        a.order(&[b'a'; 256]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        a.payment(b"1", b"a\0"),
        Err(Error::InvalidArgument(_))
    ));
    let res = a.order(b"args").unwrap();
    assert!(matches!(
        a.acquire(&res, Some(-1), None),
        Err(Error::OutOfRange {
            arg: Arg::Wait,
            min: 0,
            got: -1,
            ..
        })
    ));
    assert!(matches!(
        a.acquire(&res, Some(0), Some(0)),
        Err(Error::OutOfRange {
            arg: Arg::Ttl,
            min: 1,
            got: 0,
            ..
        })
    ));
    assert!(matches!(
        a.acquire(&res, Some(0), Some(86_400_001)),
        Err(Error::OutOfRange {
            arg: Arg::Ttl,
            max: 86_400_000,
            ..
        })
    ));
    assert!(!a.is_locked(&res).unwrap());
}

#[test]
fn redis_lost_during_the_callback_never_reads_as_not_run() {
    let mut server = RedisServer::start();
    let mut cfg = server.config();
    cfg.connect_timeout_ms = 200;
    let a = Locker::new(cfg.clone()).unwrap();
    let res = a.order(b"gone").unwrap();
    // Lease still valid by the local clock: the value comes back.
    let r = a.execute(&res, Some(0), Some(60_000), |_| {
        server.stop();
        Ok::<_, ()>(7)
    });
    assert!(matches!(r, Ok(7)));
    // Lease may have expired by the time Redis was unreachable: LockLost.
    let mut server = RedisServer::start_on(server.port);
    let a = Locker::new(cfg).unwrap();
    let r = a.execute(&res, Some(0), Some(100), |_| {
        std::thread::sleep(Duration::from_millis(200));
        server.stop();
        Ok::<_, ()>(7)
    });
    assert!(matches!(r, Err(ExecError::Core(Error::LockLost { .. }))));
}

#[test]
fn a_frozen_redis_fails_a_new_connection_within_the_io_timeout() {
    let server = RedisServer::start();
    let mut cfg = server.config();
    cfg.connect_timeout_ms = 2_000;
    cfg.io_timeout_ms = 400;
    let a = Locker::new(cfg).unwrap();
    let res = a.order(b"frozen").unwrap();
    server.signal(libc::SIGSTOP);
    let t = Instant::now();
    let r = a.acquire(&res, Some(0), None);
    let took = t.elapsed();
    server.signal(libc::SIGCONT);
    assert!(matches!(r, Err(Error::Backend { .. })));
    // The kernel accepts the TCP connection of a stopped process: the first
    // reply is what never comes, and that is bounded by io_timeout_ms (no
    // handshake commands each waiting the whole connect timeout).
    assert!(took < Duration::from_millis(1_500), "{took:?}");
}

/// The number of keys of each release script sent for `lock_key`, in order,
/// as MONITOR saw them (a release's arguments are the owner and one more).
/// A script the server did not know yet (NOSCRIPT: the client loads it and
/// sends it again) is counted once.
fn releases_seen(mon: &mut redis::Connection, lock_key: &str, until: &str) -> Vec<usize> {
    let mut seen = Vec::new();
    // The client of the last release counted, while it is that client's last command.
    let mut last_from: Option<String> = None;
    loop {
        let line = match mon.recv_response().unwrap() {
            redis::Value::SimpleString(s) => s,
            other => panic!("unexpected MONITOR reply {other:?}"),
        };
        // 1700000000.123456 [0 127.0.0.1:4242] "EVALSHA" "<sha>" "4" "<key>" ...
        let client = line.split(['[', ']']).nth(1).unwrap_or("").to_string();
        let args: Vec<&str> = line.split("\" \"").collect();
        if args.iter().any(|a| a.trim_end_matches('"') == until) {
            return seen;
        }
        if args.first().is_some_and(|a| a.ends_with("\"SCRIPT"))
            && args.get(1).is_some_and(|a| a.eq_ignore_ascii_case("load"))
            && last_from.as_ref() == Some(&client)
        {
            seen.pop();
        }
        let is_script = args.first().is_some_and(|a| a.ends_with("\"EVALSHA"));
        let numkeys = args.get(2).and_then(|n| n.parse::<usize>().ok());
        let release = match (is_script, numkeys) {
            (true, Some(n)) => {
                (args.get(3) == Some(&lock_key) && args.len() == 3 + n + 2).then_some(n)
            }
            _ => None,
        };
        if let Some(n) = release {
            seen.push(n);
            last_from = Some(client);
        } else if last_from.as_ref() == Some(&client) {
            last_from = None;
        }
    }
}

/// An uncontended release leaves out the 16 wake-up lists (most of what it
/// would cost Redis); a release that finds waiters queued is sent again
/// with them, and one whose lock was contended when taken sends them at once.
#[test]
fn a_release_names_the_wake_up_lists_only_when_someone_waits() {
    let (cfg, a) = setup();
    let mut mon = raw(&cfg.redis_url);
    let _: String = redis::cmd("MONITOR").query(&mut mon).unwrap();
    mon.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut plain = raw(&cfg.redis_url);
    let end = |c: &mut redis::Connection, marker: &str| {
        let _: String = redis::cmd("ECHO").arg(marker).query(c).unwrap();
    };

    let free = a.order(b"free").unwrap();
    assert!(a.acquire(&free, Some(0), None).unwrap().release().unwrap());
    end(&mut plain, "end-free");
    assert_eq!(releases_seen(&mut mon, free.lock_key(), "end-free"), [4]);

    let busy = a.order(b"busy").unwrap();
    let lease = a.acquire(&busy, Some(0), None).unwrap();
    let (cfg2, busy2) = (cfg.clone(), busy.clone());
    let waiter = std::thread::spawn(move || {
        let b = other_process(&cfg2, 1);
        let l = b.acquire(&busy2, Some(20_000), None).unwrap();
        l.release().unwrap()
    });
    // The waiter is queued once the lock shows it.
    let queued = Instant::now();
    while a.inspect(&busy).unwrap().map_or(0, |i| i.waiters) == 0 {
        assert!(queued.elapsed() < Duration::from_secs(10), "never queued");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(lease.release().unwrap());
    assert!(waiter.join().unwrap());
    end(&mut plain, "end-busy");
    let all_lists = 4 + monei_concurrency_core::key::WAKE_SLOTS;
    assert_eq!(
        releases_seen(&mut mon, busy.lock_key(), "end-busy"),
        [4, all_lists, all_lists],
        "holder: short, then with the lists; the waiter that got it: with the lists at once"
    );
}
