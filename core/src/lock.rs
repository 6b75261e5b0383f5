//! The lock service: acquire with a bounded, woken wait; re-entrancy; leases.

use crate::config::{check_arg, Config};
use crate::error::{Arg, Error, ExecError, Result};
use crate::key::Resource;
use crate::monitor::LockInfo;
use crate::pool::{self, Conn, Endpoint};
use crate::process;
use crate::protocol::{self, Attempt};
use crate::registry::{self, Lease, NewLease};
use crate::settings::MAX_MS;
use crate::{events, stats, watchdog};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a waiter without a wake-up slot (more than
/// [`crate::key::WAKE_SLOTS`] wait for one lock) asks again.
const SLOTLESS_POLL: Duration = Duration::from_millis(5);

/// Lock operations for one configuration (one PHP object).
pub struct Locker {
    cfg: Config,
    endpoint: Arc<Endpoint>,
}

/// One caller on its way to a lock: who it is, when it asked, until when it
/// waits, and its entry in the lock's queue once an attempt put it there.
struct Waiter {
    owner: String,
    asked: Instant,
    deadline: Instant,
    entry: Option<Vec<u8>>,
}

/// A lock Redis has just given us.
struct Won {
    token: i64,
    /// When the request that won it was sent (the lease runs from there).
    sent: Instant,
    /// Given by another process' release (a short claim), not taken by us.
    handed_over: bool,
}

/// What one attempt came to.
enum Tried {
    Won(Won),
    /// Someone else holds it; their lease has this many ms left (negative:
    /// no expiry known).
    Busy(i64),
}

/// How long a lease lasts and whether the watchdog renews it.
#[derive(Clone, Copy, Debug)]
struct LeaseTerms {
    ttl_ms: u64,
    auto_renew: bool,
}

impl Locker {
    pub fn new(cfg: Config) -> Result<Self> {
        Self::new_in_scope(cfg, "")
    }

    /// A locker whose re-entrancy is kept apart from that of lockers of
    /// other scopes, as if it lived in another process (see
    /// [`pool::endpoint_in_scope`]). For tests.
    #[doc(hidden)]
    pub fn new_in_scope(cfg: Config, scope: &str) -> Result<Self> {
        let endpoint = pool::endpoint_in_scope(&cfg, scope)?;
        Ok(Locker { cfg, endpoint })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.endpoint
    }

    pub fn order(&self, order_id: &[u8]) -> Result<Resource> {
        Resource::order(&self.cfg.key_prefix, order_id)
    }

    pub fn payment(&self, order_id: &[u8], payment_id: &[u8]) -> Result<Resource> {
        Resource::payment(&self.cfg.key_prefix, order_id, payment_id)
    }

    fn wait_for(&self, wait_ms: Option<i64>) -> Result<Duration> {
        let ms = match wait_ms {
            None => self.cfg.lock_wait_ms,
            Some(ms) => check_arg(Arg::Wait, ms, 0)?,
        };
        Ok(Duration::from_millis(ms))
    }

    /// A lock handed to a waiter by another process' release lasts this long
    /// until the waiter (its watchdog, at once) extends it to its own ttl: a
    /// waiter that died in the queue holds it up for this, not a whole ttl.
    fn claim_ms(&self, terms: LeaseTerms) -> u64 {
        terms.ttl_ms.min((self.cfg.io_timeout_ms / 2).max(1000))
    }

    fn terms(&self, ttl_ms: Option<i64>) -> Result<LeaseTerms> {
        Ok(match ttl_ms {
            None => LeaseTerms {
                ttl_ms: self.cfg.lock_ttl_ms,
                auto_renew: true,
            },
            Some(ms) => LeaseTerms {
                ttl_ms: check_arg(Arg::Ttl, ms, 1)?,
                auto_renew: false,
            },
        })
    }

    /// Takes the lock, waiting up to `wait_ms` (default `lock_wait_ms`).
    /// Without `ttl_ms` the lease is renewed by the watchdog while held.
    pub fn acquire(
        &self,
        res: &Resource,
        wait_ms: Option<i64>,
        ttl_ms: Option<i64>,
    ) -> Result<Lease> {
        let wait = self.wait_for(wait_ms)?;
        let terms = self.terms(ttl_ms)?;
        self.acquire_within(res, wait, terms)?
            .ok_or_else(|| Error::timeout(res.name(), wait))
    }

    /// Takes the lock only if it is free now.
    pub fn try_acquire(&self, res: &Resource, ttl_ms: Option<i64>) -> Result<Option<Lease>> {
        let terms = self.terms(ttl_ms)?;
        self.acquire_within(res, Duration::ZERO, terms)
    }

    fn acquire_within(
        &self,
        res: &Resource,
        wait: Duration,
        terms: LeaseTerms,
    ) -> Result<Option<Lease>> {
        let asked = Instant::now();
        if let Some(lease) = registry::reenter(&self.endpoint, res)? {
            stats::inc(|c| &c.reentered);
            return Ok(Some(lease));
        }
        let mut conn = self.endpoint.conn()?;
        let mut waiter = Waiter {
            owner: process::next_owner(),
            asked,
            deadline: asked + wait,
            entry: None,
        };
        let won = match self.attempt_and_wait(&mut conn, res, terms, &mut waiter)? {
            Some(won) => Some(won),
            None => self.give_up(&mut conn, res, &waiter)?,
        };
        match won {
            Some(won) => self.finish(&mut conn, res, terms, waiter, won),
            None => Ok(None),
        }
    }

    /// Attempts, and between attempts sleeps until a release hands us the
    /// lock, until the deadline. None: the wait ran out (we may still be queued).
    fn attempt_and_wait(
        &self,
        conn: &mut Conn,
        res: &Resource,
        terms: LeaseTerms,
        waiter: &mut Waiter,
    ) -> Result<Option<Won>> {
        loop {
            let sent = Instant::now();
            let remaining = waiter.deadline.saturating_duration_since(sent);
            let pttl = match self.attempt(conn, res, terms, waiter, sent, remaining)? {
                Tried::Won(won) => return Ok(Some(won)),
                Tried::Busy(pttl) => pttl,
            };
            if remaining.is_zero() {
                return Ok(None);
            }
            if let Some(token) = self.await_release(conn, res, waiter, pttl, remaining)? {
                return Ok(Some(Won {
                    token,
                    sent,
                    handed_over: true,
                }));
            }
            if Instant::now() >= waiter.deadline {
                return Ok(None);
            }
        }
    }

    /// One acquire script: the lock, or a place in its queue (kept in
    /// `waiter`) for up to `remaining`.
    fn attempt(
        &self,
        conn: &mut Conn,
        res: &Resource,
        terms: LeaseTerms,
        waiter: &mut Waiter,
        sent: Instant,
        remaining: Duration,
    ) -> Result<Tried> {
        let won = |token, handed_over| {
            Tried::Won(Won {
                token,
                sent,
                handed_over,
            })
        };
        Ok(
            match protocol::acquire(
                conn,
                res,
                &waiter.owner,
                terms.ttl_ms,
                remaining.as_millis() as u64,
                self.claim_ms(terms),
                waiter.entry.as_deref(),
            )? {
                Attempt::Acquired(token) => won(token, false),
                Attempt::HandedOver(token) => won(token, true),
                Attempt::Busy(pttl, queued) => {
                    if waiter.entry.is_none() {
                        stats::inc(|c| &c.contended);
                    }
                    // The script may have given our entry a wake-up slot.
                    if queued.is_some() {
                        waiter.entry = queued;
                    }
                    Tried::Busy(pttl)
                }
            },
        )
    }

    /// Sleeps until a release hands us the lock (its token), or until the
    /// holder's lease would run out too, in case it died.
    fn await_release(
        &self,
        conn: &mut Conn,
        res: &Resource,
        waiter: &Waiter,
        pttl: i64,
        remaining: Duration,
    ) -> Result<Option<i64>> {
        let block = match u64::try_from(pttl) {
            Ok(p) => remaining.min(Duration::from_millis(p + 2)),
            Err(_) => remaining,
        };
        match waiter.entry.as_deref().and_then(protocol::entry_slot) {
            Some(slot) => protocol::wait_for_handoff(conn, res, &waiter.owner, slot, block),
            // More waiters than wake-up slots: a release hands us the lock
            // all the same, and we find it at the next attempt.
            None => {
                std::thread::sleep(block.min(SLOTLESS_POLL));
                Ok(None)
            }
        }
    }

    /// The wait ran out: leaves the queue, unless a release handed us the
    /// lock meanwhile (then it is ours after all).
    fn give_up(&self, conn: &mut Conn, res: &Resource, waiter: &Waiter) -> Result<Option<Won>> {
        let Some(entry) = &waiter.entry else {
            return Ok(None);
        };
        let sent = Instant::now();
        if let Attempt::Acquired(token) | Attempt::HandedOver(token) =
            protocol::cancel(conn, res, &waiter.owner, entry)?
        {
            return Ok(Some(Won {
                token,
                sent,
                handed_over: true,
            }));
        }
        stats::inc(|c| &c.timeouts);
        events::emit("warning", "lock wait timed out", || {
            vec![
                ("resource", events::s(res.name())),
                ("waited_ms", events::i(waiter.asked.elapsed().as_millis())),
            ]
        });
        Ok(None)
    }

    /// The lock is ours in Redis. With `min_replicas_ack`, make sure enough
    /// replicas have it before saying so (a failover to a replica that never
    /// saw the lock would hand it out again); if they do not confirm in time,
    /// give it back and fail. A lock handed over by another process' release
    /// was written on that process' connection, so we write it once more on
    /// ours (extend) for WAIT to cover.
    fn finish(
        &self,
        conn: &mut Conn,
        res: &Resource,
        terms: LeaseTerms,
        waiter: Waiter,
        won: Won,
    ) -> Result<Option<Lease>> {
        let need = self.cfg.min_replicas_ack;
        let expect_waiters = won.handed_over || waiter.entry.is_some();
        let mut claim = won.handed_over.then(|| self.claim_ms(terms));
        if need > 0 {
            if won.handed_over {
                protocol::extend(conn, res, &waiter.owner, terms.ttl_ms)?;
                claim = None;
            }
            let timeout = self.cfg.replica_ack_timeout_ms;
            let acked = conn.wait_replicas(res.lock_key(), need, timeout)?;
            if acked < need as i64 {
                let _ = protocol::release(conn, res, &waiter.owner, expect_waiters);
                stats::inc(|c| &c.backend_errors);
                return Err(Error::Backend {
                    endpoint: self.endpoint.masked_url().to_string(),
                    detail: format!(
                        "only {acked} of {need} replicas acknowledged the lock within {timeout} ms; it was released"
                    ),
                });
            }
        }
        let waited = waiter.asked.elapsed();
        stats::inc(|c| &c.acquired);
        stats::observe(stats::Hist::Wait, waited);
        events::emit("debug", "lock acquired", || {
            vec![
                ("resource", events::s(res.name())),
                ("token", events::i(won.token)),
                ("waited_ms", events::i(waited.as_millis())),
            ]
        });
        let (lease, renew_at) = registry::register(NewLease {
            resource: res.clone(),
            endpoint: self.endpoint.clone(),
            owner: waiter.owner,
            token: won.token,
            ttl_ms: terms.ttl_ms,
            auto_renew: terms.auto_renew,
            max_hold_ms: self.cfg.max_hold_ms,
            slow_hold_ms: self.cfg.slow_hold_ms,
            claim_ms: claim,
            sent: won.sent,
            expect_waiters,
        });
        if let Some(due) = renew_at {
            watchdog::watch(due);
        }
        Ok(Some(lease))
    }

    /// Who holds the lock, if anyone.
    pub fn inspect(&self, res: &Resource) -> Result<Option<LockInfo>> {
        let found = protocol::inspect(&mut self.endpoint.conn()?, res)?;
        Ok(found.map(|i| LockInfo::new(res, i)))
    }

    /// Frees the lock whoever holds it (an operator's last resort when the
    /// holder is gone), records who did it, and hands it to the next waiter.
    /// The old holder's next extend() or release() reports the loss.
    pub fn force_unlock(&self, res: &Resource) -> Result<bool> {
        let by = crate::holder::current();
        let n = protocol::force_release(&mut self.endpoint.conn()?, res, &by)?;
        if n != 0 {
            stats::inc(|c| &c.forced_unlocks);
            registry::mark_lost(&self.endpoint, res, "freed by forceUnlock()");
            events::emit("warning", "lock forced free", || {
                vec![
                    ("resource", events::s(res.name())),
                    ("by", events::s(by.replace('\t', " "))),
                ]
            });
        }
        Ok(n != 0)
    }

    /// Whether anyone (this process included) holds the lock.
    pub fn is_locked(&self, res: &Resource) -> Result<bool> {
        protocol::exists(&mut self.endpoint.conn()?, res)
    }

    /// Runs `f` while holding the lock and returns its result.
    ///
    /// The lock is released before returning, whatever `f` did. A callback
    /// error wins over a lock error; if the callback succeeded but the lease
    /// did not survive it, the result is [`Error::LockLost`]. Once `f` has run,
    /// a backend error never claims it did not: the release failing leaves the
    /// value returned if the lease was certainly still valid, else LockLost.
    pub fn execute<T, E>(
        &self,
        res: &Resource,
        wait_ms: Option<i64>,
        ttl_ms: Option<i64>,
        f: impl FnOnce(&Lease) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, ExecError<E>> {
        let lease = self
            .acquire(res, wait_ms, ttl_ms)
            .map_err(ExecError::Core)?;
        let outcome = f(&lease);
        let released_early = lease.is_released();
        let released = lease.release();
        let value = outcome.map_err(ExecError::Callback)?;
        if released_early {
            // The callback gave the lock back itself; nothing was lost.
            return Ok(value);
        }
        let lost = |reason: &str| {
            Err(ExecError::Core(Error::LockLost {
                resource: res.name().to_string(),
                reason: reason.into(),
            }))
        };
        match released {
            Ok(true) => Ok(value),
            Ok(false) => lost("the lease expired or was taken over while the callback ran"),
            // The callback ran. Redis could not confirm the release, so judge
            // by the local clock: a lease that cannot have expired yet was held
            // throughout, and it will expire on its own.
            Err(Error::Backend { .. }) if lease.valid_by_local_clock() => Ok(value),
            Err(_) => lost("redis could not confirm the lease after the callback ran"),
        }
    }

    /// `lock()`: takes the lock and keeps it in this process until [`Locker::unlock`].
    /// Returns false when the wait ran out.
    pub fn lock(&self, res: &Resource, wait_ms: Option<i64>, ttl_ms: Option<i64>) -> Result<bool> {
        match self.acquire(res, wait_ms, ttl_ms) {
            Ok(lease) => {
                registry::park(&self.endpoint, res, lease);
                Ok(true)
            }
            Err(Error::LockTimeout { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Undoes one `lock()`. True only if this process held it and the release
    /// succeeded; false if it was not held here (someone else's lock stays).
    pub fn unlock(&self, res: &Resource) -> Result<bool> {
        match registry::unpark(&self.endpoint, res) {
            Some(lease) => lease.release(),
            None => Ok(false),
        }
    }

    /// Waits until nobody holds the lock, woken by the release (not polled).
    /// Implemented as a queued acquisition that gives the lock back at once,
    /// so it is served in turn with the other waiters. False when the wait ran
    /// out, and at once if this process itself holds the lock.
    pub fn wait_for_unlock(&self, res: &Resource, wait_ms: i64) -> Result<bool> {
        let wait = Duration::from_millis(check_arg(Arg::Wait, wait_ms, 0)?);
        if registry::holds(&self.endpoint, res) {
            return Ok(false);
        }
        let terms = LeaseTerms {
            ttl_ms: (2 * self.cfg.io_timeout_ms).min(MAX_MS),
            auto_renew: false,
        };
        match self.acquire_within(res, wait, terms)? {
            Some(lease) => {
                lease.release()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
