//! Exactly-once execution per key: the first caller claims the key and runs
//! the callback, later callers get its stored result, concurrent callers wait
//! (woken on completion) or get `IdempotencyInProgress`.
//!
//! Each state change is one Lua script. The result is stored as opaque bytes;
//! the binding serializes PHP values into them.

use crate::config::{check_arg, ms_setting, Config, Value, MAX_MS};
use crate::error::{Arg, Error, ExecError, Result};
use crate::key::IdempotencyKeys;
use crate::pool::{self, Conn, Endpoint};
use crate::process;
use crate::scripts;
use crate::stats;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `IdempotencyStore` beyond the connection settings.
pub const OPTIONS: &[&str] = &["retention_s", "in_progress_ttl_ms"];
/// Longest fingerprint stored, in bytes.
pub const MAX_FINGERPRINT_BYTES: usize = 1024;

pub struct IdempotencyStore {
    cfg: Config,
    endpoint: Arc<Endpoint>,
    retention_ms: u64,
    in_progress_ttl_ms: u64,
}

/// What `once()` produced.
pub enum Once<T> {
    /// This caller ran the callback; here is its value.
    Ran(T),
    /// The key was completed before; here is the stored result.
    Replayed(Vec<u8>),
}

/// Status of a key as `status()` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Completed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
        }
    }
}

enum Claim {
    Claimed,
    Completed(Vec<u8>),
    InProgress(i64),
    Mismatch,
}

impl IdempotencyStore {
    /// `extras` are the options named in [`OPTIONS`], as handed back by [`Config::apply`].
    pub fn new(cfg: Config, extras: &[(String, Value)]) -> Result<Self> {
        let mut retention_ms = 86_400_000;
        let mut in_progress_ttl_ms = 60_000;
        for (name, value) in extras {
            match name.as_str() {
                "retention_s" => {
                    let s = ms_setting(name, value.clone(), false, 1)?;
                    retention_ms = s
                        .checked_mul(1000)
                        .filter(|ms| *ms <= 30 * MAX_MS)
                        .ok_or_else(|| {
                            Error::invalid("retention_s must be at most 2592000 (30 days)")
                        })?;
                }
                "in_progress_ttl_ms" => {
                    in_progress_ttl_ms = ms_setting(name, value.clone(), false, 1)?
                }
                _ => return Err(Error::invalid(format!("unknown option \"{name}\""))),
            }
        }
        let endpoint = pool::endpoint(&cfg)?;
        Ok(IdempotencyStore {
            cfg,
            endpoint,
            retention_ms,
            in_progress_ttl_ms,
        })
    }

    fn keys(&self, key: &[u8]) -> Result<IdempotencyKeys> {
        IdempotencyKeys::new(&self.cfg.key_prefix, key)
    }

    /// Runs `f` once per key. `f` returns the value for this caller and its
    /// serialized form to store for later callers. If `f` fails, the claim is
    /// dropped so a retry runs it again.
    pub fn once<T, E>(
        &self,
        key: &[u8],
        fingerprint: &[u8],
        wait_ms: i64,
        f: impl FnOnce() -> std::result::Result<(T, Vec<u8>), E>,
    ) -> std::result::Result<Once<T>, ExecError<E>> {
        let keys = self.keys(key).map_err(ExecError::Core)?;
        let wait =
            Duration::from_millis(check_arg(Arg::Wait, wait_ms, 0).map_err(ExecError::Core)?);
        if fingerprint.len() > MAX_FINGERPRINT_BYTES {
            return Err(ExecError::Core(Error::invalid(format!(
                "fingerprint must be at most {MAX_FINGERPRINT_BYTES} bytes (pass a hash of the payload)"
            ))));
        }
        let owner = process::next_owner();
        let claimed = self.claim_within(&keys, &owner, fingerprint, wait);
        match &claimed {
            Ok(Some(_)) => stats::inc(|c| &c.idempotency_hits),
            Ok(None) => stats::inc(|c| &c.idempotency_misses),
            Err(Error::IdempotencyInProgress { .. } | Error::IdempotencyMismatch { .. }) => {
                stats::inc(|c| &c.idempotency_conflicts)
            }
            // Backend errors are counted where they happen.
            Err(_) => {}
        }
        if let Some(result) = claimed.map_err(ExecError::Core)? {
            return Ok(Once::Replayed(result));
        }
        // The connection is back in the pool while the callback runs, so
        // nested calls into the extension reuse it.
        match f() {
            Ok((value, bytes)) => match self.complete(&keys, &owner, &bytes) {
                Ok(true) => Ok(Once::Ran(value)),
                Ok(false) => {
                    stats::inc(|c| &c.idempotency_claims_lost);
                    Err(ExecError::Core(Error::IdempotencyClaimLost {
                        key: keys.name.clone(),
                    }))
                }
                Err(e) => Err(ExecError::Core(Error::IdempotencyResultUnknown {
                    key: keys.name.clone(),
                    detail: e.to_string(),
                })),
            },
            Err(e) => {
                // Best effort: if Redis is gone the claim expires on its own.
                let _ = self.abandon(&keys, &owner);
                Err(ExecError::Callback(e))
            }
        }
    }

    /// Claims the key (None) or returns the stored result, waiting for an
    /// in-progress claim up to `wait`.
    fn claim_within(
        &self,
        keys: &IdempotencyKeys,
        owner: &str,
        fp: &[u8],
        wait: Duration,
    ) -> Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + wait;
        let mut conn = self.endpoint.conn()?;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.claim(&mut conn, keys, owner, fp, !remaining.is_zero())? {
                Claim::Claimed => return Ok(None),
                Claim::Completed(result) => return Ok(Some(result)),
                Claim::Mismatch => {
                    return Err(Error::IdempotencyMismatch {
                        key: keys.name.clone(),
                    })
                }
                Claim::InProgress(pttl) => {
                    if remaining.is_zero() {
                        return Err(Error::IdempotencyInProgress {
                            key: keys.name.clone(),
                        });
                    }
                    // Woken by completion or abandonment; also when the claim
                    // would expire (its worker may have died).
                    let block = match u64::try_from(pttl) {
                        Ok(p) => remaining.min(Duration::from_millis(p + 2)),
                        Err(_) => remaining,
                    };
                    let secs = block.as_secs_f64().max(0.001);
                    conn.set_read_timeout(block + self.endpoint.io_timeout())?;
                    let _: Option<(String, String)> = conn.run(|c| {
                        redis::cmd("BLPOP")
                            .arg(&keys.wake)
                            .arg(format!("{secs:.3}"))
                            .query(c)
                    })?;
                    conn.restore_timeout()?;
                }
            }
        }
    }

    fn claim(
        &self,
        conn: &mut Conn,
        keys: &IdempotencyKeys,
        owner: &str,
        fp: &[u8],
        will_wait: bool,
    ) -> Result<Claim> {
        let reply: Vec<redis::Value> = conn.run(|c| {
            scripts::ONCE_CLAIM
                .call(&[keys.record.as_str()])
                .arg(owner)
                .arg(fp)
                .arg(self.in_progress_ttl_ms)
                .arg(if will_wait { "1" } else { "0" })
                .invoke(c)
        })?;
        let tag = reply.first().and_then(bytes).unwrap_or_default();
        Ok(match tag.as_slice() {
            b"claimed" => Claim::Claimed,
            b"completed" => Claim::Completed(reply.get(1).and_then(bytes).unwrap_or_default()),
            b"mismatch" => Claim::Mismatch,
            _ => Claim::InProgress(match reply.get(1) {
                Some(redis::Value::Int(n)) => *n,
                _ => -1,
            }),
        })
    }

    fn complete(&self, keys: &IdempotencyKeys, owner: &str, result: &[u8]) -> Result<bool> {
        let n: i64 = self.endpoint.conn()?.run(|c| {
            scripts::ONCE_COMPLETE
                .call(&[keys.record.as_str(), keys.wake.as_str()])
                .arg(owner)
                .arg(result)
                .arg(self.retention_ms)
                .invoke(c)
        })?;
        Ok(n == 1)
    }

    fn abandon(&self, keys: &IdempotencyKeys, owner: &str) -> Result<bool> {
        let n: i64 = self.endpoint.conn()?.run(|c| {
            scripts::ONCE_ABANDON
                .call(&[keys.record.as_str(), keys.wake.as_str()])
                .arg(owner)
                .invoke(c)
        })?;
        Ok(n == 1)
    }

    pub fn status(&self, key: &[u8]) -> Result<Option<Status>> {
        let keys = self.keys(key)?;
        let state: Option<String> = self
            .endpoint
            .conn()?
            .run(|c| redis::cmd("HGET").arg(&keys.record).arg("state").query(c))?;
        Ok(match state.as_deref() {
            Some("completed") => Some(Status::Completed),
            Some(_) => Some(Status::InProgress),
            None => None,
        })
    }

    /// Deletes the record (completed or in progress); true if there was one.
    pub fn forget(&self, key: &[u8]) -> Result<bool> {
        let keys = self.keys(key)?;
        let n: i64 = self
            .endpoint
            .conn()?
            .run(|c| redis::cmd("DEL").arg(&keys.record).arg(&keys.wake).query(c))?;
        Ok(n > 0)
    }
}

fn bytes(v: &redis::Value) -> Option<Vec<u8>> {
    match v {
        redis::Value::BulkString(b) => Some(b.clone()),
        redis::Value::SimpleString(s) => Some(s.clone().into_bytes()),
        _ => None,
    }
}
