//! Looking at held locks from the outside: one lock's holder record, or every
//! lock under a key prefix (SCAN, never KEYS, so a large Redis is not blocked).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::holder;
use crate::key::Resource;
use crate::pool;
use crate::protocol::{self, Inspection};

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
pub fn list(cfg: &Config, pattern: Option<&str>, limit: i64) -> Result<Vec<LockInfo>> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let endpoint = pool::endpoint(cfg)?;
    let match_keys = format!("{}{{*}}:*lock", glob_escape(&cfg.key_prefix));
    // A Cluster spreads keys over its primaries: walk each one.
    let mut keys = Vec::new();
    let primaries = endpoint.primaries()?;
    if primaries.is_empty() {
        let mut conn = endpoint.conn()?;
        conn.run(|c| scan(c, &match_keys, &mut keys))?;
    } else {
        for client in primaries {
            endpoint.direct(&client, |c| scan(c, &match_keys, &mut keys))?;
        }
    }
    let mut conn = endpoint.conn()?;
    let mut found = Vec::new();
    for key in keys {
        let Some(res) = Resource::from_lock_key(&cfg.key_prefix, &key) else {
            continue;
        };
        if pattern.is_some_and(|p| !glob_match(p.as_bytes(), res.name().as_bytes())) {
            continue;
        }
        if let Some(i) = protocol::inspect(&mut conn, &res)? {
            found.push(LockInfo::new(&res, i));
        }
    }
    found.sort_by(|a, b| (a.since_ms, &a.resource).cmp(&(b.since_ms, &b.resource)));
    found.truncate(limit as usize);
    Ok(found)
}

/// Adds every key matching `pattern` on one node to `out`, only once the
/// whole scan succeeded (a retried call must not add keys twice).
fn scan(
    c: &mut dyn redis::ConnectionLike,
    pattern: &str,
    out: &mut Vec<Vec<u8>>,
) -> redis::RedisResult<()> {
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query(c)?;
        found.extend(keys);
        cursor = next;
        if cursor == 0 {
            out.append(&mut found);
            return Ok(());
        }
    }
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
