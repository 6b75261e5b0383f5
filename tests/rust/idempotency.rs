//! IdempotencyStore against a real redis-server.

mod support;

use monei_concurrency_core::error::Arg;
use monei_concurrency_core::idempotency::Status;
use monei_concurrency_core::{Config, Error, ExecError, IdempotencyStore, Once, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

fn store_with(extras: &[(&str, i64)]) -> (Config, IdempotencyStore) {
    let cfg = config(&unique_prefix());
    let extras: Vec<(String, Value)> = extras
        .iter()
        .map(|(k, v)| (k.to_string(), Value::Int(*v)))
        .collect();
    let s = IdempotencyStore::new(cfg.clone(), &extras).unwrap();
    (cfg, s)
}

fn run(
    s: &IdempotencyStore,
    key: &str,
    fp: &str,
    wait: i64,
    value: &str,
) -> Result<Once<String>, ExecError<String>> {
    s.once(key.as_bytes(), fp.as_bytes(), wait, || {
        Ok((value.to_string(), value.as_bytes().to_vec()))
    })
}

#[test]
fn first_call_runs_later_calls_replay() {
    let (_, s) = store_with(&[]);
    assert_eq!(s.status(b"evt_1").unwrap(), None);
    assert!(matches!(run(&s, "evt_1", "", 0, "A"), Ok(Once::Ran(v)) if v == "A"));
    assert_eq!(s.status(b"evt_1").unwrap(), Some(Status::Completed));
    match run(&s, "evt_1", "", 0, "B") {
        Ok(Once::Replayed(bytes)) => assert_eq!(bytes, b"A"),
        _ => panic!("expected the stored result"),
    }
    assert!(s.forget(b"evt_1").unwrap());
    assert!(!s.forget(b"evt_1").unwrap());
    assert!(matches!(run(&s, "evt_1", "", 0, "C"), Ok(Once::Ran(v)) if v == "C"));
}

#[test]
fn fingerprint_mismatch_is_an_error_in_progress_and_after() {
    let (_, s) = store_with(&[]);
    run(&s, "k", "fp1", 0, "x").ok().unwrap();
    assert!(matches!(
        run(&s, "k", "fp2", 0, "y"),
        Err(ExecError::Core(Error::IdempotencyMismatch { .. }))
    ));
    assert!(matches!(run(&s, "k", "fp1", 0, "y"), Ok(Once::Replayed(_))));
    assert!(matches!(run(&s, "k", "", 0, "y"), Ok(Once::Replayed(_))));
    let r = s.once(b"k2", b"fp1", 0, || {
        let inner = run(&s, "k2", "fp2", 0, "z");
        assert!(matches!(
            inner,
            Err(ExecError::Core(Error::IdempotencyMismatch { .. }))
        ));
        let inner = run(&s, "k2", "fp1", 0, "z");
        assert!(matches!(
            inner,
            Err(ExecError::Core(Error::IdempotencyInProgress { .. }))
        ));
        Ok::<_, String>(((), vec![]))
    });
    assert!(r.is_ok());
}

#[test]
fn failing_callback_drops_the_claim() {
    let (_, s) = store_with(&[]);
    let r = s.once(b"f", b"", 0, || Err::<((), Vec<u8>), _>("boom".to_string()));
    assert!(matches!(r, Err(ExecError::Callback(e)) if e == "boom"));
    assert_eq!(s.status(b"f").unwrap(), None);
    assert!(matches!(run(&s, "f", "", 0, "ok"), Ok(Once::Ran(_))));
}

#[test]
fn claim_of_a_dead_worker_expires() {
    let (cfg, s) = store_with(&[("in_progress_ttl_ms", 300)]);
    // A worker claims and "dies": simulate with a raw claim record.
    let mut con = raw(&cfg.redis_url);
    let rec = format!("{}{{dead}}:once", cfg.key_prefix);
    let _: () = redis::cmd("HSET")
        .arg(&rec)
        .arg("state")
        .arg("in_progress")
        .arg("fp")
        .arg("")
        .arg("owner")
        .arg("gone")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("PEXPIRE")
        .arg(&rec)
        .arg(300)
        .query(&mut con)
        .unwrap();
    assert!(matches!(
        run(&s, "dead", "", 0, "x"),
        Err(ExecError::Core(Error::IdempotencyInProgress { .. }))
    ));
    let t = Instant::now();
    assert!(matches!(run(&s, "dead", "", 5_000, "x"), Ok(Once::Ran(_))));
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn waiter_is_woken_by_completion() {
    let (cfg, s) = store_with(&[]);
    let s = Arc::new(s);
    let s2 = s.clone();
    let first = std::thread::spawn(move || {
        s2.once(b"w", b"", 0, || {
            std::thread::sleep(Duration::from_millis(300));
            Ok::<_, ()>(("first", b"first".to_vec()))
        })
        .ok()
        .map(|o| matches!(o, Once::Ran(_)))
    });
    std::thread::sleep(Duration::from_millis(50));
    let other = IdempotencyStore::new(cfg, &[]).unwrap();
    let t = Instant::now();
    match run(&other, "w", "", 20_000, "second") {
        Ok(Once::Replayed(b)) => assert_eq!(b, b"first"),
        _ => panic!("waiter must get the first result"),
    }
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "woken, not left to its deadline"
    );
    assert_eq!(first.join().unwrap(), Some(true));
}

#[test]
fn waiter_takes_over_when_the_first_callback_fails() {
    let (_, s) = store_with(&[]);
    let s = Arc::new(s);
    let s2 = s.clone();
    let first = std::thread::spawn(move || {
        s2.once(b"t", b"", 0, || {
            std::thread::sleep(Duration::from_millis(200));
            Err::<((), Vec<u8>), _>("fail")
        })
        .is_err()
    });
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    assert!(matches!(run(&s, "t", "", 20_000, "second"), Ok(Once::Ran(v)) if v == "second"));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(first.join().unwrap());
}

#[test]
fn concurrent_callers_run_each_key_once() {
    let (cfg, _) = store_with(&[]);
    let runs = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (cfg, runs) = (cfg.clone(), runs.clone());
            std::thread::spawn(move || {
                let s = IdempotencyStore::new(cfg, &[]).unwrap();
                let mut seen = Vec::new();
                for k in 0..50 {
                    let key = format!("evt_{k}");
                    let out = s.once(key.as_bytes(), b"", 10_000, || {
                        runs.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(1));
                        Ok::<_, ()>((format!("r{k}-{t}"), format!("r{k}-{t}").into_bytes()))
                    });
                    seen.push(match out {
                        Ok(Once::Ran(v)) => v,
                        Ok(Once::Replayed(b)) => String::from_utf8(b).unwrap(),
                        Err(_) => panic!("once failed"),
                    });
                }
                seen
            })
        })
        .collect();
    let results: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(runs.load(Ordering::SeqCst), 50);
    for k in 0..50 {
        let first = &results[0][k];
        assert!(
            results.iter().all(|r| &r[k] == first),
            "every caller sees the same result for key {k}"
        );
    }
}

#[test]
fn bad_arguments() {
    let (cfg, s) = store_with(&[]);
    assert!(matches!(
        run(&s, "", "", 0, "x"),
        Err(ExecError::Core(Error::InvalidArgument(_)))
    ));
    assert!(matches!(
        run(&s, "k", "", -1, "x"),
        Err(ExecError::Core(Error::OutOfRange { arg: Arg::Wait, .. }))
    ));
    let long_fp = "f".repeat(2000);
    assert!(matches!(
        run(&s, "k", &long_fp, 0, "x"),
        Err(ExecError::Core(Error::InvalidArgument(_)))
    ));
    assert!(IdempotencyStore::new(
        cfg.clone(),
        &[("retention_s".into(), Value::Str("1".into()))]
    )
    .is_err());
    assert!(IdempotencyStore::new(cfg, &[("retention_s".into(), Value::Int(0))]).is_err());
}
