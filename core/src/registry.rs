//! The leases this process holds.
//!
//! Re-entrancy lives here: a second acquisition of a resource the process
//! already holds only bumps a depth counter, and Redis is released when the
//! outermost level lets go. The watchdog renews from here, request shutdown
//! releases everything left here, and `OrderLockManager::lock()` parks its
//! leases here between `lock()` and `unlock()`.

use crate::error::{Error, Result};
use crate::key::Resource;
use crate::pool::Endpoint;
use crate::process::{self, lock, ForkLocal};
use crate::protocol;
use crate::{events, stats};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One Redis lease held by this process.
pub struct Held {
    pub(crate) resource: Resource,
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) owner: String,
    pub(crate) token: i64,
    /// The lock had other takers when we got it: its release is sent with
    /// the wake-up lists at once (see `protocol::release`).
    pub(crate) expect_waiters: bool,
    pub(crate) generation: u64,
    pub(crate) acquired_at: Instant,
    /// Holds longer than this are reported as slow when released.
    pub(crate) slow_hold: Duration,
    pub(crate) state: Mutex<HeldState>,
}

impl Held {
    pub(crate) fn st(&self) -> MutexGuard<'_, HeldState> {
        lock(&self.state)
    }

    /// Records that the lease is gone (once), for stats and the log.
    pub(crate) fn mark_lost(&self, st: &mut HeldState, reason: &str) {
        if st.lost.is_some() {
            return;
        }
        st.lost = Some(reason.to_string());
        stats::inc(|c| &c.lost_leases);
        events::emit("error", "lock lost", || {
            vec![
                ("resource", events::s(self.resource.name())),
                ("token", events::i(self.token)),
                ("reason", events::s(reason)),
            ]
        });
    }
}

pub(crate) struct HeldState {
    pub depth: u32,
    pub ttl_ms: u64,
    /// Renewed by the watchdog until `renew_until`.
    pub auto_renew: bool,
    pub renew_until: Instant,
    pub next_renew: Instant,
    /// Earliest moment the lease may have expired in Redis (monotonic clock).
    pub expires_at: Instant,
    pub lost: Option<String>,
    pub released: bool,
    /// Taken over from a release with a short claim: the watchdog extends it
    /// to `ttl_ms` once, at once, renewable or not.
    pub claimed: bool,
}

/// Server and resource: both shared, so a key costs no allocation.
type RegKey = (Arc<str>, Resource);

#[derive(Default)]
pub(crate) struct Registry {
    pub held: HashMap<RegKey, Arc<Held>>,
    /// Leases taken through `OrderLockManager::lock()`, newest last.
    parked: HashMap<RegKey, Vec<Lease>>,
}

pub(crate) struct Shared {
    registry: Mutex<Registry>,
    /// Wakes the watchdog when a renewable lease appears.
    pub wake: Condvar,
}

/// A forked child starts with an empty registry: it holds none of its
/// parent's leases (they are never released or renewed from the child).
static SHARED: ForkLocal<Shared> = ForkLocal::new(|| Shared {
    registry: Mutex::new(Registry::default()),
    wake: Condvar::new(),
});

pub(crate) fn shared() -> &'static Shared {
    SHARED.get()
}

/// Re-entrancy is per Redis server and key, whatever the timeouts of the
/// object that asks: two `ProcessingLock`s of one process share their leases.
fn reg_key(endpoint: &Endpoint, res: &Resource) -> RegKey {
    (endpoint.server().clone(), res.clone())
}

pub(crate) fn registry() -> MutexGuard<'static, Registry> {
    lock(&shared().registry)
}

/// One level of a held lock, as handed to the caller. Clones share the level:
/// releasing through any of them releases it once.
#[derive(Clone)]
pub struct Lease(Arc<Level>);

struct Level {
    held: Arc<Held>,
    done: AtomicBool,
}

impl Lease {
    fn new(held: Arc<Held>) -> Self {
        Lease(Arc::new(Level {
            held,
            done: AtomicBool::new(false),
        }))
    }

    fn held(&self) -> &Held {
        &self.0.held
    }

    pub fn resource(&self) -> &str {
        self.held().resource.name()
    }

    pub fn token(&self) -> i64 {
        self.held().token
    }

    pub fn is_released(&self) -> bool {
        self.0.done.load(Ordering::Acquire)
    }

    /// Asks Redis whether this process still holds the lock.
    pub fn is_held(&self) -> Result<bool> {
        Ok(!self.is_released() && self.remaining_ms()? > 0)
    }

    /// Remaining lease time in Redis, 0 when no longer held.
    pub fn remaining_ms(&self) -> Result<u64> {
        if self.is_released() || self.held().generation != process::generation() {
            return Ok(0);
        }
        let h = self.held();
        let ttl = protocol::held_ttl(&mut h.endpoint.conn()?, &h.resource, &h.owner)?;
        Ok(ttl.unwrap_or(0) as u64)
    }

    /// Sets the lease to expire `ttl_ms` from now. The watchdog, if it renews
    /// this lease, keeps using the new ttl.
    pub fn extend(&self, ttl_ms: u64) -> Result<()> {
        let h = self.held();
        if self.is_released() || h.generation != process::generation() {
            return Err(self.lost("it was already released"));
        }
        let sent = Instant::now();
        if !protocol::extend(&mut h.endpoint.conn()?, &h.resource, &h.owner, ttl_ms)? {
            h.mark_lost(&mut h.st(), "expired or taken over before extend()");
            return Err(self.lost("it expired or was taken over before extend()"));
        }
        let mut st = h.st();
        st.ttl_ms = ttl_ms;
        st.expires_at = sent + Duration::from_millis(ttl_ms);
        st.next_renew = sent + Duration::from_millis(ttl_ms / 3);
        Ok(())
    }

    /// Gives up this level. Returns false if it was already released, or if the
    /// lease had expired or been lost by the time it was given up.
    pub fn release(&self) -> Result<bool> {
        if self.0.done.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        release_level(&self.0.held)
    }

    /// Whether the lease cannot have expired yet, by this process' monotonic
    /// clock (the ttl counted from when the acquire or last renewal was sent),
    /// and no loss was seen. Used when Redis cannot be asked.
    pub fn valid_by_local_clock(&self) -> bool {
        let st = self.held().st();
        st.lost.is_none() && Instant::now() < st.expires_at
    }

    /// Forgets this level without touching Redis (its lock is released elsewhere).
    fn disarm(self) {
        self.0.done.store(true, Ordering::Release);
    }

    fn lost(&self, why: &str) -> Error {
        Error::LockLost {
            resource: self.resource().to_string(),
            reason: why.to_string(),
        }
    }
}

impl Drop for Level {
    /// A lease dropped without release() (an abandoned `Lease` object) is
    /// released now rather than left to expire.
    fn drop(&mut self) {
        if !*self.done.get_mut() {
            let _ = release_level(&self.held);
        }
    }
}

/// What giving up one level of a lease leaves.
enum Leaving {
    /// Nothing to give back here: forked while held, or already given back.
    Gone,
    /// An outer level still holds it.
    Inner,
    /// The last level: the lock goes back to Redis.
    Outermost,
}

fn release_level(h: &Arc<Held>) -> Result<bool> {
    match leave_level(h) {
        Leaving::Gone => Ok(false),
        Leaving::Inner => still_held(h),
        Leaving::Outermost => {
            // Redis first, a waiter may be blocked on it; the entry goes
            // after. Nobody takes it meanwhile: with `released` set, a
            // re-entry takes the lock afresh and the watchdog passes it by.
            let released = h.endpoint.conn().and_then(|mut c| {
                protocol::release(&mut c, &h.resource, &h.owner, h.expect_waiters)
            });
            forget(h);
            let released = released? != 0;
            report_release(h, released);
            Ok(released)
        }
    }
}

/// One level fewer; the last one marks the lease released.
fn leave_level(h: &Held) -> Leaving {
    if h.generation != process::generation() {
        // Forked while held: the lock belongs to the parent process.
        return Leaving::Gone;
    }
    let mut st = h.st();
    if st.released {
        // Already given back as a whole (request shutdown, release_all).
        return Leaving::Gone;
    }
    st.depth = st.depth.saturating_sub(1);
    if st.depth > 0 {
        return Leaving::Inner;
    }
    st.released = true;
    Leaving::Outermost
}

/// Removes the registry entry of `h`, if it is still this lease's.
fn forget(h: &Arc<Held>) {
    let mut reg = registry();
    let key = reg_key(&h.endpoint, &h.resource);
    if reg.held.get(&key).is_some_and(|x| Arc::ptr_eq(x, h)) {
        reg.held.remove(&key);
    }
}

/// Hold time, and the events of a release: lost, released, held too long.
fn report_release(h: &Held, released: bool) {
    let held_for = h.acquired_at.elapsed();
    stats::observe(stats::Hist::Hold, held_for);
    if !released {
        h.mark_lost(&mut h.st(), "expired or taken over before release");
    } else {
        events::emit("debug", "lock released", || {
            vec![
                ("resource", events::s(h.resource.name())),
                ("token", events::i(h.token)),
                ("held_ms", events::i(held_for.as_millis())),
            ]
        });
    }
    if held_for > h.slow_hold {
        events::emit("warning", "lock held longer than slow_hold_ms", || {
            vec![
                ("resource", events::s(h.resource.name())),
                ("held_ms", events::i(held_for.as_millis())),
                ("slow_hold_ms", events::i(h.slow_hold.as_millis())),
            ]
        });
    }
}

/// Whether a lease is still ours, asking Redis only when the local clock
/// says it may have expired or the watchdog saw it go.
fn still_held(h: &Held) -> Result<bool> {
    let (lost, maybe_expired) = {
        let st = h.st();
        (st.lost.is_some(), Instant::now() >= st.expires_at)
    };
    if lost {
        return Ok(false);
    }
    if !maybe_expired {
        return Ok(true);
    }
    let ttl = protocol::held_ttl(&mut h.endpoint.conn()?, &h.resource, &h.owner)?;
    Ok(ttl.is_some_and(|t| t > 0))
}

/// Parameters of a fresh acquisition, to be recorded.
pub(crate) struct NewLease {
    pub resource: Resource,
    pub endpoint: Arc<Endpoint>,
    pub owner: String,
    pub token: i64,
    pub ttl_ms: u64,
    pub auto_renew: bool,
    pub max_hold_ms: u64,
    pub slow_hold_ms: u64,
    /// Set when the lock came as a hand-off that lasts only this long.
    pub claim_ms: Option<u64>,
    /// When the request that took the lock was sent (the lease runs from there).
    pub sent: Instant,
    /// We waited for it, or it was handed to us from a queue.
    pub expect_waiters: bool,
}

/// Records a lease just taken; also returns when it first needs renewing,
/// if the watchdog has to renew it.
pub(crate) fn register(n: NewLease) -> (Lease, Option<Instant>) {
    let auto = n.auto_renew;
    let claimed = n.claim_ms.is_some();
    // What Redis holds now: a hand-off's short claim, else the whole ttl. It
    // is extended like any lease, a third of the way in: a short hold is over
    // before that.
    let lasts = Duration::from_millis(n.claim_ms.unwrap_or(n.ttl_ms));
    let due = n.sent + lasts / 3;
    let held = Arc::new(Held {
        endpoint: n.endpoint,
        owner: n.owner,
        token: n.token,
        expect_waiters: n.expect_waiters,
        generation: process::generation(),
        acquired_at: n.sent,
        slow_hold: Duration::from_millis(n.slow_hold_ms),
        state: Mutex::new(HeldState {
            depth: 1,
            ttl_ms: n.ttl_ms,
            auto_renew: n.auto_renew,
            renew_until: n.sent + Duration::from_millis(n.max_hold_ms),
            next_renew: due,
            expires_at: n.sent + lasts,
            lost: None,
            released: false,
            claimed,
        }),
        resource: n.resource,
    });
    let key = reg_key(&held.endpoint, &held.resource);
    registry().held.insert(key, held.clone());
    let renew_at = (auto || claimed).then_some(due);
    (Lease::new(held), renew_at)
}

/// Re-enters a lease this process already holds, if any.
pub(crate) fn reenter(endpoint: &Endpoint, res: &Resource) -> Result<Option<Lease>> {
    let held = match registry().held.get(&reg_key(endpoint, res)) {
        Some(h) => h.clone(),
        None => return Ok(None),
    };
    if !still_held(&held)? {
        return Err(Error::LockLost {
            resource: res.name().to_string(),
            reason: "this process holds it in an outer scope, but that lease has expired".into(),
        });
    }
    let mut st = held.st();
    if st.released {
        // Being released right now by another thread: take it afresh.
        return Ok(None);
    }
    st.depth += 1;
    drop(st);
    Ok(Some(Lease::new(held)))
}

/// Marks a lease of this process as lost (after a forceUnlock of our own lock).
pub(crate) fn mark_lost(endpoint: &Endpoint, res: &Resource, reason: &str) {
    let held = registry().held.get(&reg_key(endpoint, res)).cloned();
    if let Some(h) = held {
        h.mark_lost(&mut h.st(), reason);
    }
}

/// Whether this process holds the resource (at any depth).
pub(crate) fn holds(endpoint: &Endpoint, res: &Resource) -> bool {
    registry().held.contains_key(&reg_key(endpoint, res))
}

/// Keeps a lease until [`unpark`] (for lock()/unlock() style APIs).
pub(crate) fn park(endpoint: &Endpoint, res: &Resource, lease: Lease) {
    registry()
        .parked
        .entry(reg_key(endpoint, res))
        .or_default()
        .push(lease);
}

pub(crate) fn unpark(endpoint: &Endpoint, res: &Resource) -> Option<Lease> {
    let mut reg = registry();
    let key = reg_key(endpoint, res);
    let list = reg.parked.get_mut(&key)?;
    let lease = list.pop();
    if list.is_empty() {
        reg.parked.remove(&key);
    }
    lease
}

/// Releases every lease this process still holds, at every depth. Called at
/// request end so that an uncaught exception, `exit()`, a fatal error or a
/// timeout never leaves a lock to expire on its own. Returns how many Redis
/// locks were released.
pub fn release_all() -> usize {
    let (parked, held) = {
        let mut reg = registry();
        let parked: Vec<Lease> = reg.parked.drain().flat_map(|(_, v)| v).collect();
        let held: Vec<Arc<Held>> = reg.held.drain().map(|(_, h)| h).collect();
        (parked, held)
    };
    // Parked leases are only levels of the held ones below; mark them done so
    // their drop does nothing.
    for l in parked {
        l.disarm();
    }
    let mut released = 0;
    for h in held {
        h.st().released = true;
        if let Ok(mut conn) = h.endpoint.conn() {
            if let Ok(n) = protocol::release(&mut conn, &h.resource, &h.owner, h.expect_waiters) {
                released += usize::from(n != 0);
                stats::observe(stats::Hist::Hold, h.acquired_at.elapsed());
                events::emit("warning", "lock released at request end", || {
                    vec![
                        ("resource", events::s(h.resource.name())),
                        ("token", events::i(h.token)),
                    ]
                });
            }
        }
    }
    released
}

/// Number of distinct locks this process holds.
pub fn held_count() -> usize {
    registry().held.len()
}
