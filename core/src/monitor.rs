//! Looking at held locks from the outside: one lock's holder record, or every
//! lock under a key prefix (SCAN, never KEYS, so a large Redis is not blocked).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::holder;
use crate::key::Resource;
use crate::pool;
use crate::protocol::{self, Inspection};
use std::collections::BTreeMap;
use std::time::Instant;

/// Most locks `list()` returns.
pub const MAX_LIMIT: i64 = 10_000;
/// Keys asked for per SCAN step.
const SCAN_COUNT: usize = 1_000;

/// A held lock as the operator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockInfo {
    pub resource: String,
    pub token: i64,
    pub host: String,
    pub pid: i64,
    /// Request URI or CLI script of the holder.
    pub request: String,
    /// When it was taken (Redis time, ms since the epoch).
    pub since_ms: i64,
    pub ttl_ms: i64,
    pub waiters: i64,
}

impl LockInfo {
    /// How long it has been held by now, by this machine's clock against
    /// Redis' acquisition time (0 if the clocks disagree that way).
    pub fn held_ms(&self) -> i64 {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        (now_ms - self.since_ms).max(0)
    }

    pub(crate) fn new(res: &Resource, i: Inspection) -> Self {
        let h = holder::parse(&i.holder);
        LockInfo {
            resource: res.name().to_string(),
            token: i.token,
            host: h.host,
            pid: h.pid,
            request: h.request,
            since_ms: i.since_ms,
            ttl_ms: i.ttl_ms,
            waiters: i.waiters,
        }
    }
}

/// Held locks whose resource name matches `pattern` (a glob on names like
/// `order:100000123` or `payment:100000123:pay_abc`; None = all), oldest first.
///
/// Memory stays within `limit` locks however many Redis holds (only the
/// oldest `limit` seen so far are kept), and the call gives up with a
/// backend error once it has run longer than the I/O timeout, rather than
/// return a list it could not finish.
pub fn list(cfg: &Config, pattern: Option<&str>, limit: i64) -> Result<Vec<LockInfo>> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let endpoint = pool::endpoint(cfg)?;
    let deadline = Instant::now() + endpoint.io_timeout();
    let match_keys = format!("{}{{*}}:*lock", glob_escape(&cfg.key_prefix));
    let mut oldest = Oldest::new(limit as usize);
    let mut conn = endpoint.conn()?;
    // A Cluster spreads keys over its primaries: walk each one.
    let primaries = endpoint.primaries()?;
    let nodes: Vec<Option<&redis::Client>> = if primaries.is_empty() {
        vec![None]
    } else {
        primaries.iter().map(Some).collect()
    };
    for node in nodes {
        let mut cursor = 0;
        loop {
            // One SCAN step is safe to retry: the same cursor gives the same step.
            let (next, keys) = match node {
                None => conn.run(|c| scan_step(c, &match_keys, cursor))?,
                Some(client) => endpoint.direct(client, |c| scan_step(c, &match_keys, cursor))?,
            };
            for key in keys {
                let Some(res) = Resource::from_lock_key(&cfg.key_prefix, &key) else {
                    continue;
                };
                if pattern.is_some_and(|p| !glob_match(p.as_bytes(), res.name().as_bytes())) {
                    continue;
                }
                if let Some(i) = protocol::inspect(&mut conn, &res)? {
                    oldest.offer(LockInfo::new(&res, i));
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
            if Instant::now() >= deadline {
                return Err(Error::Backend {
                    endpoint: endpoint.masked_url().to_string(),
                    detail: format!(
                        "listing locks took longer than io_timeout_ms ({} ms); \
                         narrow the pattern or raise io_timeout_ms",
                        endpoint.io_timeout().as_millis()
                    ),
                });
            }
        }
    }
    Ok(oldest.into_sorted())
}

/// The `limit` oldest locks offered so far, by (since, resource). A lock
/// SCAN returns twice is kept once.
struct Oldest {
    limit: usize,
    kept: BTreeMap<(i64, String), LockInfo>,
}

impl Oldest {
    fn new(limit: usize) -> Self {
        Oldest {
            limit,
            kept: BTreeMap::new(),
        }
    }

    fn offer(&mut self, info: LockInfo) {
        self.kept
            .insert((info.since_ms, info.resource.clone()), info);
        if self.kept.len() > self.limit {
            self.kept.pop_last();
        }
    }

    fn into_sorted(self) -> Vec<LockInfo> {
        self.kept.into_values().collect()
    }
}

/// One SCAN step on one node: the next cursor and the keys it found.
fn scan_step(
    c: &mut dyn redis::ConnectionLike,
    pattern: &str,
    cursor: u64,
) -> redis::RedisResult<(u64, Vec<Vec<u8>>)> {
    redis::cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(SCAN_COUNT)
        .query(c)
}

/// Escapes Redis glob characters in a literal.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `*` any run, `?` any one byte; everything else literal.
pub fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(resource: &str, since_ms: i64) -> LockInfo {
        LockInfo {
            resource: resource.into(),
            token: 1,
            host: String::new(),
            pid: 0,
            request: String::new(),
            since_ms,
            ttl_ms: 0,
            waiters: 0,
        }
    }

    #[test]
    fn oldest_keeps_only_the_limit_oldest_once_each() {
        let mut o = Oldest::new(3);
        for (i, since) in [50, 10, 40, 30, 20, 10, 60].into_iter().enumerate() {
            let name = if i == 5 {
                "r1".to_string()
            } else {
                format!("r{i}")
            };
            o.offer(info(&name, since));
            assert!(o.kept.len() <= 3);
        }
        let kept: Vec<(i64, String)> = o
            .into_sorted()
            .into_iter()
            .map(|l| (l.since_ms, l.resource))
            .collect();
        assert_eq!(
            kept,
            [(10, "r1".into()), (20, "r4".into()), (30, "r3".into())]
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"order:*", b"order:100"));
        assert!(!glob_match(b"order:*", b"payment:100:p"));
        assert!(glob_match(b"*:100*", b"payment:100:p"));
        assert!(glob_match(b"order:1?0", b"order:100"));
        assert!(glob_match(b"*", b""));
        assert!(!glob_match(b"a", b""));
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
