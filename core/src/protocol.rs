//! One round trip each: the lock protocol's calls to Redis, on a checked-out connection.

use crate::error::Result;
use crate::key::Resource;
use crate::pool::Conn;
use crate::scripts;
use std::time::Duration;

pub enum Attempt {
    Acquired(i64),
    /// A release handed the lock to us (it lasts only our claim ttl so far).
    HandedOver(i64),
    /// Held by someone else; remaining ttl in ms (negative if none).
    Busy(i64),
}

fn attempt(reply: Vec<i64>) -> Attempt {
    match reply.as_slice() {
        [1, token, ..] => Attempt::Acquired(*token),
        [2, token, ..] => Attempt::HandedOver(*token),
        [_, pttl, ..] => Attempt::Busy(*pttl),
        _ => Attempt::Busy(-1),
    }
}

pub fn acquire(
    conn: &mut Conn,
    res: &Resource,
    owner: &str,
    ttl_ms: u64,
    wait_ms: u64,
    claim_ms: u64,
    was_queued: bool,
) -> Result<Attempt> {
    let holder = crate::holder::current();
    let (lock, queue, info, fence, wake) = (
        res.lock_key(),
        res.queue_key(),
        res.queue_info_key(),
        res.fence_key(),
        res.signal_key(owner),
    );
    // A retry on a fresh connection (see Conn::run) may follow an attempt
    // that queued us before the old connection died: let it clean up.
    let mut retry = false;
    let reply: Vec<i64> = conn.run(|c| {
        let may_be_queued = was_queued || std::mem::replace(&mut retry, true);
        scripts::ACQUIRE
            .key(&lock)
            .key(&queue)
            .key(&info)
            .key(&fence)
            .key(&wake)
            .arg(owner)
            .arg(ttl_ms)
            .arg(wait_ms)
            .arg(&holder)
            .arg(claim_ms)
            .arg(if may_be_queued { "1" } else { "0" })
            .invoke(c)
    })?;
    Ok(attempt(reply))
}

/// 0: not held by `owner`; 1: released; 2: released and handed to a waiter.
pub fn release(conn: &mut Conn, res: &Resource, owner: &str) -> Result<i64> {
    release_as(conn, res, owner, "")
}

/// Frees the lock whoever holds it, recording `forced_by`. 0 if nothing was held.
pub fn force_release(conn: &mut Conn, res: &Resource, forced_by: &str) -> Result<i64> {
    release_as(conn, res, "", forced_by)
}

fn release_as(conn: &mut Conn, res: &Resource, owner: &str, forced_by: &str) -> Result<i64> {
    let (lock, queue, info, fence, forced, wake) = (
        res.lock_key(),
        res.queue_key(),
        res.queue_info_key(),
        res.fence_key(),
        res.forced_key(),
        res.signal_prefix(),
    );
    conn.run(|c| {
        scripts::RELEASE
            .key(&lock)
            .key(&queue)
            .key(&info)
            .key(&fence)
            .key(&forced)
            .arg(owner)
            .arg(&wake)
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
    let v: Vec<redis::Value> = conn.run(|c| scripts::INSPECT.key(&lock).key(&queue).invoke(c))?;
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
    let n: i64 = conn.run(|c| scripts::EXTEND.key(&lock).arg(owner).arg(ttl_ms).invoke(c))?;
    Ok(n == 1)
}

/// Remaining ttl if `owner` holds the lock.
pub fn held_ttl(conn: &mut Conn, res: &Resource, owner: &str) -> Result<Option<i64>> {
    let lock = res.lock_key();
    let n: i64 = conn.run(|c| scripts::HELD.key(&lock).arg(owner).invoke(c))?;
    Ok((n != -2).then_some(n.max(0)))
}

pub fn cancel(conn: &mut Conn, res: &Resource, owner: &str) -> Result<Attempt> {
    let (lock, queue, info, wake) = (
        res.lock_key(),
        res.queue_key(),
        res.queue_info_key(),
        res.signal_key(owner),
    );
    let reply: Vec<i64> = conn.run(|c| {
        scripts::CANCEL
            .key(&lock)
            .key(&queue)
            .key(&info)
            .key(&wake)
            .arg(owner)
            .invoke(c)
    })?;
    Ok(attempt(reply))
}

pub fn exists(conn: &mut Conn, res: &Resource) -> Result<bool> {
    let lock = res.lock_key();
    conn.run(|c| redis::cmd("EXISTS").arg(&lock).query(c))
}

/// Blocks until a release hands the lock to `owner` (returns the token) or `block` passes.
pub fn wait_for_handoff(
    conn: &mut Conn,
    res: &Resource,
    owner: &str,
    block: Duration,
) -> Result<Option<i64>> {
    let wake = res.signal_key(owner);
    let secs = (block.as_secs_f64()).max(0.001);
    conn.set_read_timeout(block + conn.endpoint().io_timeout())?;
    let popped: Option<(String, String)> = conn.run(|c| {
        redis::cmd("BLPOP")
            .arg(&wake)
            .arg(format!("{secs:.3}"))
            .query(c)
    })?;
    conn.restore_timeout()?;
    Ok(popped.and_then(|(_, token)| token.parse().ok()))
}
