//! PaymentStateMachine against a real redis-server.

mod support;

use monei_concurrency_core::{Error, PaymentStateMachine, Value};
use std::sync::Arc;
use support::*;

fn machine() -> PaymentStateMachine {
    PaymentStateMachine::new(config(&unique_prefix()), &[]).unwrap()
}

#[test]
fn moves_forward_only() {
    let m = machine();
    assert_eq!(m.current(b"pay").unwrap(), None);
    assert!(
        m.advance(b"pay", "AUTHORIZED").unwrap(),
        "any status may be the first"
    );
    assert!(!m.advance(b"pay", "AUTHORIZED").unwrap(), "duplicate");
    assert!(!m.advance(b"pay", "PENDING").unwrap(), "stale");
    assert!(
        m.advance(b"pay", "REFUNDED").unwrap(),
        "skipping lost intermediates is fine"
    );
    assert!(!m.advance(b"pay", "SUCCEEDED").unwrap());
    assert_eq!(m.current(b"pay").unwrap().as_deref(), Some("REFUNDED"));
    assert!(m.advance(b"p2", "SUCCEEDED").unwrap());
    assert!(!m.advance(b"p2", "FAILED").unwrap(), "unreachable");
    assert!(matches!(
        m.advance(b"p2", "BOGUS"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        m.advance(b"", "PENDING"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn custom_graph() {
    let list = |v: &[&str]| {
        Value::Array(
            v.iter()
                .enumerate()
                .map(|(i, s)| (i.to_string(), Value::Str(s.to_string())))
                .collect(),
        )
    };
    let graph = Value::Array(vec![
        ("NEW".into(), list(&["PAID"])),
        ("PAID".into(), list(&["SHIPPED"])),
    ]);
    let m = PaymentStateMachine::new(config(&unique_prefix()), &[("transitions".into(), graph)])
        .unwrap();
    assert!(m.advance(b"o", "NEW").unwrap());
    assert!(m.advance(b"o", "SHIPPED").unwrap());
    assert!(!m.advance(b"o", "PAID").unwrap());
    assert!(matches!(
        m.advance(b"o", "SUCCEEDED"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn every_interleaving_ends_in_the_furthest_status() {
    let path = [
        "PENDING",
        "AUTHORIZED",
        "SUCCEEDED",
        "PARTIALLY_REFUNDED",
        "REFUNDED",
    ];
    let cfg = config(&unique_prefix());
    for round in 0..20 {
        let m = Arc::new(PaymentStateMachine::new(cfg.clone(), &[]).unwrap());
        let id = format!("pay_{round}");
        // A random prefix of the path, each status delivered twice, concurrently.
        let upto = 1 + round % path.len();
        let threads: Vec<_> = (0..upto * 2)
            .map(|i| {
                let (m, id, status) = (m.clone(), id.clone(), path[i % upto]);
                std::thread::spawn(move || m.advance(id.as_bytes(), status).unwrap())
            })
            .collect();
        let applied = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|a| *a)
            .count();
        assert!(applied >= 1 && applied <= upto);
        assert_eq!(
            m.current(id.as_bytes()).unwrap().as_deref(),
            Some(path[upto - 1])
        );
    }
}
