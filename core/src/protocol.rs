//! One round trip each: the lock protocol's calls to Redis, on a checked-out connection.

use crate::error::Result;
use crate::key::{Resource, WAKE_SLOTS};
use crate::pool::Conn;
use crate::scripts;
use std::time::Duration;

pub enum Attempt {
    Acquired(i64),
    /// A release handed the lock to us (it lasts only our claim ttl so far).
    HandedOver(i64),
    /// Held by someone else: remaining ttl in ms (negative if none), and our
    /// entry in its queue if we wait in it.
    Busy(i64, Option<Vec<u8>>),
}

fn attempt(reply: Vec<redis::Value>) -> Attempt {
    let int = |i: usize| match reply.get(i) {
        Some(redis::Value::Int(n)) => *n,
        _ => -1,
    };
    match int(0) {
        1 => Attempt::Acquired(int(1)),
        2 => Attempt::HandedOver(int(1)),
        _ => {
            let pttl = int(1);
            let entry = match reply.into_iter().nth(2) {
                Some(redis::Value::BulkString(b)) => Some(b),
                _ => None,
            };
            Attempt::Busy(pttl, entry)
        }
    }
}

/// One attempt to take the lock; with `wait_ms` > 0 a busy lock queues us.
/// `entry` is our queue entry from an earlier attempt, if there was one.
pub fn acquire(
    conn: &mut Conn,
    res: &Resource,
    owner: &str,
    ttl_ms: u64,
    wait_ms: u64,
    claim_ms: u64,
    entry: Option<&[u8]>,
) -> Result<Attempt> {
    let holder = crate::holder::current();
    let (lock, queue, fence) = (res.lock_key(), res.queue_key(), res.fence_key());
    let wake = own_wake_key(res, entry);
    // A retry on a fresh connection (see Conn::run) may follow an attempt
    // that queued us before the old connection died, with an entry we never
    // saw: the script then looks for it.
    let mut retry = false;
    let reply: Vec<redis::Value> = conn.run(|c| {
        let entry = match entry {
            Some(e) => e,
            None if std::mem::replace(&mut retry, true) => b"?",
            None => b"",
        };
        scripts::ACQUIRE
            .call(&[lock, queue, fence, wake])
            .arg(owner)
            .arg(ttl_ms)
            .arg(wait_ms)
            .arg(&holder)
            .arg(claim_ms)
            .arg(entry)
            .arg(WAKE_SLOTS)
            .invoke(c)
    })?;
    Ok(attempt(reply))
}

/// 0: not held by `owner`; 1: released; 2: released and handed to a waiter.
///
/// Unless `expect_waiters`, the release is first sent without the wake-up
/// lists, which only a hand-off needs and which cost Redis more than the
/// rest of an uncontended release; if waiters are queued the script changes
/// nothing and it is sent again with them (one round trip more, paid by a
/// lock that had no waiters when it was taken and has some now).
pub fn release(conn: &mut Conn, res: &Resource, owner: &str, expect_waiters: bool) -> Result<i64> {
    if !expect_waiters {
        let (lock, queue, fence) = (res.lock_key(), res.queue_key(), res.fence_key());
        let n = run_release(conn, &[lock, queue, fence, lock], owner, "")?;
        if n != WAITERS_QUEUED {
            return Ok(n);
        }
    }
    release_as(conn, res, owner, "")
}

/// What `release.lua` answers, sent without the wake-up lists, when waiters
/// are queued.
const WAITERS_QUEUED: i64 = 3;

/// Frees the lock whoever holds it, recording `forced_by`. 0 if nothing was held.
pub fn force_release(conn: &mut Conn, res: &Resource, forced_by: &str) -> Result<i64> {
    release_as(conn, res, "", forced_by)
}

/// The release with every wake-up list declared: the script picks the waiter.
fn release_as(conn: &mut Conn, res: &Resource, owner: &str, forced_by: &str) -> Result<i64> {
    // Only a forced release writes the record; a plain one names the lock key
    // there rather than build a key name it does not use.
    let forced = (!forced_by.is_empty()).then(|| res.forced_key());
    let (lock, queue, fence) = (res.lock_key(), res.queue_key(), res.fence_key());
    let forced = forced.as_deref().unwrap_or(lock);
    let mut keys = [""; 4 + WAKE_SLOTS];
    keys[..4].copy_from_slice(&[lock, queue, fence, forced]);
    for (k, wake) in keys[4..].iter_mut().zip(res.wake_keys()) {
        *k = wake;
    }
    run_release(conn, &keys, owner, forced_by)
}

/// `release.lua` with these keys (see its header for which may be left out).
fn run_release(conn: &mut Conn, keys: &[&str], owner: &str, forced_by: &str) -> Result<i64> {
    conn.run(|c| {
        scripts::RELEASE
            .call(keys)
            .arg(owner)
            .arg(forced_by)
            .invoke(c)
    })
}

/// The holder record of a lock, if held.
pub struct Inspection {
    pub token: i64,
    pub since_ms: i64,
    pub holder: String,
    pub ttl_ms: i64,
    pub waiters: i64,
}

pub fn inspect(conn: &mut Conn, res: &Resource) -> Result<Option<Inspection>> {
    let (lock, queue) = (res.lock_key(), res.queue_key());
    let v: Vec<redis::Value> = conn.run(|c| scripts::INSPECT.call(&[lock, queue]).invoke(c))?;
    if v.len() < 5 {
        return Ok(None);
    }
    let text = |x: &redis::Value| match x {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::Int(n) => n.to_string(),
        _ => String::new(),
    };
    let num = |x: &redis::Value| text(x).parse::<i64>().unwrap_or(0);
    Ok(Some(Inspection {
        token: num(&v[0]),
        since_ms: num(&v[1]),
        holder: text(&v[2]),
        ttl_ms: num(&v[3]),
        waiters: num(&v[4]),
    }))
}

pub fn extend(conn: &mut Conn, res: &Resource, owner: &str, ttl_ms: u64) -> Result<bool> {
    let lock = res.lock_key();
    let n: i64 = conn.run(|c| {
        scripts::EXTEND
            .call(&[lock])
            .arg(owner)
            .arg(ttl_ms)
            .invoke(c)
    })?;
    Ok(n == 1)
}

/// Remaining ttl if `owner` holds the lock.
pub fn held_ttl(conn: &mut Conn, res: &Resource, owner: &str) -> Result<Option<i64>> {
    let lock = res.lock_key();
    let n: i64 = conn.run(|c| scripts::HELD.call(&[lock]).arg(owner).invoke(c))?;
    Ok(match n {
        -2 => None,
        // No expiry: held until someone deletes it.
        -1 => Some(i64::MAX),
        n => Some(n),
    })
}

/// Leaves the queue (our `entry` in it); the lock if a release handed it to us meanwhile.
pub fn cancel(conn: &mut Conn, res: &Resource, owner: &str, entry: &[u8]) -> Result<Attempt> {
    let (lock, queue) = (res.lock_key(), res.queue_key());
    let wake = own_wake_key(res, Some(entry));
    let reply: Vec<redis::Value> = conn.run(|c| {
        scripts::CANCEL
            .call(&[lock, queue, wake])
            .arg(owner)
            .arg(entry)
            .invoke(c)
    })?;
    Ok(attempt(reply))
}

pub fn exists(conn: &mut Conn, res: &Resource) -> Result<bool> {
    let lock = res.lock_key();
    conn.run(|c| redis::cmd("EXISTS").arg(lock).query(c))
}

/// The wake-up slot a queue entry ("owner|deadline|claim|slot|holder")
/// gives its waiter; None for no slot (all were taken) or no entry.
pub fn entry_slot(entry: &[u8]) -> Option<usize> {
    let field = entry.split(|b| *b == b'|').nth(3)?;
    let slot: usize = std::str::from_utf8(field).ok()?.parse().ok()?;
    (slot < WAKE_SLOTS).then_some(slot)
}

/// The caller's own wake-up list as a script's KEYS entry: its slot's list,
/// or the lock key when it has none (the scripts then leave the lists alone).
fn own_wake_key<'a>(res: &'a Resource, entry: Option<&[u8]>) -> &'a str {
    match entry.and_then(entry_slot) {
        Some(slot) => res.wake_key(slot),
        None => res.lock_key(),
    }
}

/// Blocks on the wake-up list of `slot` until a release hands the lock to
/// `owner` (returns the token) or `block` passes. A wake-up for another
/// owner (left behind by an earlier waiter of the slot that never took it)
/// is dropped and counts as no hand-off: the caller asks again.
pub fn wait_for_handoff(
    conn: &mut Conn,
    res: &Resource,
    owner: &str,
    slot: usize,
    block: Duration,
) -> Result<Option<i64>> {
    let wake = res.wake_key(slot);
    let secs = (block.as_secs_f64()).max(0.001);
    conn.set_read_timeout(block + conn.endpoint().io_timeout())?;
    let popped: redis::Value = conn.run(|c| {
        redis::cmd("BLPOP")
            .arg(wake)
            .arg(format!("{secs:.3}"))
            .query(c)
    })?;
    conn.restore_timeout()?;
    // [list, "owner|token"], or nil if the wait ran out. Read in place: the
    // caller's callback is waiting for it.
    let token = match &popped {
        redis::Value::Array(v) => match v.get(1) {
            Some(redis::Value::BulkString(b)) => b
                .strip_prefix(owner.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"|"))
                .and_then(|t| std::str::from_utf8(t).ok()),
            _ => None,
        },
        _ => None,
    };
    Ok(token.and_then(|t| t.parse().ok()))
}

#[cfg(test)]
mod tests {
    //! The queue entries' edge cases, through the protocol calls with the
    //! entry argument chosen by the test (a lost reply cannot be produced on
    //! demand through the public API).
    use super::*;
    use redis::Commands;
    use std::collections::HashMap;

    fn url() -> String {
        std::env::var("REDIS_URL").expect("REDIS_URL (run under tests/tools/with-redis.sh)")
    }

    /// A plain connection, to look at the keys.
    fn redis() -> redis::Connection {
        redis::Client::open(url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    fn resource(tag: &str) -> Resource {
        let prefix = format!("unit-{}-{tag}:", std::process::id());
        Resource::order(&prefix, b"1").unwrap()
    }

    fn now_ms(c: &mut redis::Connection) -> i64 {
        let (s, us): (i64, i64) = redis::cmd("TIME").query(c).unwrap();
        s * 1000 + us / 1000
    }

    /// A pooled connection like the lock service's.
    fn conn() -> Conn {
        let cfg = crate::Config {
            redis_url: url(),
            ..crate::Config::default()
        };
        crate::pool::endpoint(&cfg).unwrap().conn().unwrap()
    }

    fn try_acquire(c: &mut Conn, res: &Resource, owner: &str, entry: &[u8]) -> Attempt {
        let entry = (!entry.is_empty()).then_some(entry);
        acquire(c, res, owner, 30_000, 5_000, 1_000, entry).unwrap()
    }

    /// A fresh resource whose lock "h.1" holds.
    fn held(c: &mut Conn, tag: &str) -> Resource {
        let res = resource(tag);
        assert!(matches!(
            try_acquire(c, &res, "h.1", b""),
            Attempt::Acquired(_)
        ));
        res
    }

    fn queue(c: &mut redis::Connection, res: &Resource) -> Vec<Vec<u8>> {
        c.lrange(res.queue_key(), 0, -1).unwrap()
    }

    fn busy_entry(reply: Attempt) -> Vec<u8> {
        match reply {
            Attempt::Busy(_, Some(e)) => e,
            _ => panic!("expected a busy reply with a queue entry"),
        }
    }

    #[test]
    fn a_retry_that_may_have_queued_finds_its_entry_instead_of_queueing_twice() {
        let (mut c, mut r) = (conn(), redis());
        let res = held(&mut c, "retry");
        let first = busy_entry(try_acquire(&mut c, &res, "w.1", b""));
        assert!(first.starts_with(b"w.1|"), "{first:?}");
        // The reply was "lost": the retry cannot name the entry.
        let again = busy_entry(try_acquire(&mut c, &res, "w.1", b"?"));
        assert_eq!(again, first);
        assert_eq!(queue(&mut r, &res), vec![first]);
    }

    #[test]
    fn a_known_entry_keeps_its_place_and_is_queued_again_if_the_queue_was_lost() {
        let (mut c, mut r) = (conn(), redis());
        let res = held(&mut c, "known");
        let w1 = busy_entry(try_acquire(&mut c, &res, "w.1", b""));
        let w2 = busy_entry(try_acquire(&mut c, &res, "w.2", b""));
        assert_eq!(busy_entry(try_acquire(&mut c, &res, "w.1", &w1)), w1);
        assert_eq!(queue(&mut r, &res), vec![w1.clone(), w2]);
        let _: () = r.del(res.queue_key()).unwrap();
        assert_eq!(busy_entry(try_acquire(&mut c, &res, "w.1", &w1)), w1);
        assert_eq!(queue(&mut r, &res), vec![w1]);
    }

    #[test]
    fn a_held_lock_never_reads_as_no_time_left() {
        // PTTL reads 0 in the last millisecond, while the lock still exists
        // and extend() would succeed: held_ttl must say at least 1 until then.
        let (mut c, mut r) = (conn(), redis());
        let res = held(&mut c, "lastms");
        // Long enough that a stalled machine still reads it held at least
        // once; every read of the last millisecond has to say 1 or more.
        let _: () = r.pexpire(res.lock_key(), 25).unwrap();
        let mut seen = Vec::new();
        while let Some(ms) = held_ttl(&mut c, &res, "h.1").unwrap() {
            seen.push(ms);
        }
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|&ms| ms >= 1), "{seen:?}");
    }

    #[test]
    fn release_skips_expired_and_malformed_entries() {
        let (mut c, mut r) = (conn(), redis());
        let res = held(&mut c, "skip");
        let future = now_ms(&mut r) + 60_000;
        let _: () = r
            .rpush(
                res.queue_key(),
                &[
                    "no-separators".to_string(),
                    "w.1|notanumber|1000|0|x".to_string(),
                    "w.2|1|1000|1|host\t2\treq".to_string(),
                    format!("w.3|{future}|1000|notaslot|host"),
                    format!("w.4|{future}|1000|2|host\t4\treq|with|bars"),
                ],
            )
            .unwrap();
        let n = release(&mut c, &res, "h.1", false).unwrap();
        assert_eq!(n, 2, "handed off");
        let (owner, holder, slot): (String, String, String) = redis::cmd("HMGET")
            .arg(res.lock_key())
            .arg("owner")
            .arg("holder")
            .arg("slot")
            .query(&mut r)
            .unwrap();
        assert_eq!(
            (owner.as_str(), holder.as_str(), slot.as_str()),
            ("w.4", "host\t4\treq|with|bars", "2")
        );
        let token: String = r.hget(res.lock_key(), "token").unwrap();
        let woken: Vec<String> = r.lrange(res.wake_key(2), 0, -1).unwrap();
        assert_eq!(woken, [format!("w.4|{token}")]);
        assert!(queue(&mut r, &res).is_empty());
    }

    fn slot_of(entry: &[u8]) -> Option<usize> {
        entry_slot(entry)
    }

    /// Each queued waiter gets a slot of its own, and the holder of a
    /// handed-over lock keeps its slot (its wake-up may still be pending).
    #[test]
    fn wake_slots_are_unique_among_waiters_and_the_handed_over_holder() {
        let (mut c, mut r) = (conn(), redis());
        let res = held(&mut c, "slots");
        let w: Vec<Vec<u8>> = (1..=3)
            .map(|i| busy_entry(try_acquire(&mut c, &res, &format!("w.{i}"), b"")))
            .collect();
        let slots: Vec<Option<usize>> = w.iter().map(|e| slot_of(e)).collect();
        assert_eq!(slots, [Some(0), Some(1), Some(2)]);
        assert_eq!(release(&mut c, &res, "h.1", false).unwrap(), 2);
        let woken: Vec<String> = r.lrange(res.wake_key(0), 0, -1).unwrap();
        assert_eq!(woken.len(), 1);
        assert!(woken[0].starts_with("w.1|"));
        // w.1 now holds the lock with slot 0: a newcomer does not get it.
        let w4 = busy_entry(try_acquire(&mut c, &res, "w.4", b""));
        assert_eq!(slot_of(&w4), Some(3));
        // w.1 is woken through its own list only.
        let token = wait_for_handoff(&mut c, &res, "w.1", 0, Duration::from_millis(500)).unwrap();
        assert!(token.is_some());
        assert_eq!(release(&mut c, &res, "w.1", false).unwrap(), 2);
        // Slot 0 is free again once w.1 no longer holds the lock.
        let w5 = busy_entry(try_acquire(&mut c, &res, "w.5", b""));
        assert_eq!(slot_of(&w5), Some(0));
    }

    /// Past WAKE_SLOTS waiters a newcomer queues without a slot and gets one
    /// at a later attempt once a slot is free.
    #[test]
    fn waiters_past_the_slots_queue_without_one_and_get_one_later() {
        let (mut c, _r) = (conn(), redis());
        let res = held(&mut c, "many");
        for i in 0..WAKE_SLOTS {
            let e = busy_entry(try_acquire(&mut c, &res, &format!("w.{i}"), b""));
            assert_eq!(slot_of(&e), Some(i));
        }
        let late = busy_entry(try_acquire(&mut c, &res, "late", b""));
        assert_eq!(slot_of(&late), None, "{late:?}");
        // h.1 hands to w.0 (slot 0 stays w.0's), w.0 hands to w.1: slot 0 is free.
        assert_eq!(release(&mut c, &res, "h.1", false).unwrap(), 2);
        assert_eq!(release(&mut c, &res, "w.0", true).unwrap(), 2);
        let again = busy_entry(try_acquire(&mut c, &res, "late", &late));
        assert_eq!(slot_of(&again), Some(0));
        assert_eq!(
            queue(&mut redis(), &res).last(),
            Some(&again),
            "same place in the queue"
        );
    }

    /// A waiter that finds the lock handed to it by an attempt or a cancel
    /// (not by its wake-up) takes its wake-up back, so the slot's next
    /// waiter never pops it.
    #[test]
    fn a_hand_off_found_by_an_attempt_or_a_cancel_takes_its_wake_up_back() {
        let (mut c, mut r) = (conn(), redis());
        for by_cancel in [false, true] {
            let res = held(&mut c, if by_cancel { "cancel" } else { "attempt" });
            let e = busy_entry(try_acquire(&mut c, &res, "w.1", b""));
            let slot = slot_of(&e).unwrap();
            assert_eq!(release(&mut c, &res, "h.1", false).unwrap(), 2);
            assert_eq!(r.llen::<_, i64>(res.wake_key(slot)).unwrap(), 1);
            let got = if by_cancel {
                cancel(&mut c, &res, "w.1", &e).unwrap()
            } else {
                try_acquire(&mut c, &res, "w.1", &e)
            };
            assert!(matches!(got, Attempt::HandedOver(_) | Attempt::Acquired(_)));
            assert_eq!(
                r.llen::<_, i64>(res.wake_key(slot)).unwrap(),
                0,
                "by_cancel {by_cancel}"
            );
        }
    }

    /// Sent without the wake-up lists, a release frees a lock nobody waits
    /// for, refuses a caller that does not hold it, and changes nothing when
    /// waiters are queued (it cannot wake them): `release()` then sends it
    /// again with them and hands off.
    #[test]
    fn a_release_without_the_wake_up_lists_hands_nothing_off() {
        let (mut c, mut r) = (conn(), redis());
        let short = |c: &mut Conn, res: &Resource, owner: &str| -> i64 {
            let (lock, queue, fence) = (res.lock_key(), res.queue_key(), res.fence_key());
            run_release(c, &[lock, queue, fence, lock], owner, "").unwrap()
        };
        let res = held(&mut c, "short-free");
        assert_eq!(short(&mut c, &res, "h.1"), 1);
        assert!(!r.exists::<_, bool>(res.lock_key()).unwrap());

        let res = held(&mut c, "short-queued");
        let e = busy_entry(try_acquire(&mut c, &res, "w.1", b""));
        let before: HashMap<String, String> = r.hgetall(res.lock_key()).unwrap();
        assert_eq!(short(&mut c, &res, "w.1"), 0, "not the holder");
        assert_eq!(short(&mut c, &res, "h.1"), WAITERS_QUEUED);
        let after: HashMap<String, String> = r.hgetall(res.lock_key()).unwrap();
        assert_eq!(after, before, "the lock is untouched");
        assert_eq!(queue(&mut r, &res), vec![e.clone()]);
        let slot = slot_of(&e).unwrap();
        assert_eq!(r.llen::<_, i64>(res.wake_key(slot)).unwrap(), 0);

        assert_eq!(release(&mut c, &res, "h.1", false).unwrap(), 2);
        let owner: String = r.hget(res.lock_key(), "owner").unwrap();
        assert_eq!(owner, "w.1");
        assert_eq!(r.llen::<_, i64>(res.wake_key(slot)).unwrap(), 1);
    }

    /// A wake-up left for another owner is dropped, not taken for ours.
    #[test]
    fn a_wake_up_for_another_owner_is_not_a_hand_off() {
        let (mut c, mut r) = (conn(), redis());
        let res = resource("foreign");
        let _: () = r.rpush(res.wake_key(0), "someone.else|42").unwrap();
        let got = wait_for_handoff(&mut c, &res, "w.1", 0, Duration::from_millis(200)).unwrap();
        assert_eq!(got, None);
        assert_eq!(r.llen::<_, i64>(res.wake_key(0)).unwrap(), 0);
    }
}
