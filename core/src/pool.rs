//! Per-process Redis connection pool.
//!
//! Like phpredis' persistent connections: opened lazily on first use, kept
//! across the host's requests, one idle connection per endpoint in the common
//! case (the calling thread) plus whatever the watchdog thread needs. A connection that
//! saw any error is dropped, never reused; a fork makes the parent's idle
//! connections invisible to the child.

use crate::backend::{Backend, RawConn};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::{self, lock, ForkLocal};
use crate::url;
use crate::{events, stats};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many idle connections one endpoint keeps at most.
const MAX_IDLE: usize = 4;

/// One Redis server as configured: URL plus timeouts.
pub struct Endpoint {
    key: String,
    /// Which server this is, however the URL spells it (see [`url::identity`]).
    server: Arc<str>,
    masked_url: String,
    backend: Backend,
    connect_timeout: Duration,
    io_timeout: Duration,
    reply_spin_us: u64,
    /// Whether the last attempt to talk to this endpoint worked.
    healthy: AtomicBool,
}

#[derive(Default)]
struct PoolState {
    endpoints: HashMap<String, Arc<Endpoint>>,
    idle: HashMap<String, Vec<RawConn>>,
}

/// A forked child starts with an empty pool: its parent's sockets are never
/// used, closed or written to from the child.
static POOL: ForkLocal<Mutex<PoolState>> = ForkLocal::new(Default::default);

fn pool() -> std::sync::MutexGuard<'static, PoolState> {
    lock(POOL.get())
}

/// Returns the shared endpoint for these settings. Parses the URL but does not connect.
pub fn endpoint(cfg: &Config) -> Result<Arc<Endpoint>> {
    endpoint_in_scope(cfg, "")
}

/// [`endpoint`], with the server's identity for re-entrancy extended by
/// `scope`: lockers of different scopes act like different processes. Only
/// tests use a scope other than "", to play several processes in one.
#[doc(hidden)]
pub fn endpoint_in_scope(cfg: &Config, scope: &str) -> Result<Arc<Endpoint>> {
    let key = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        scope,
        cfg.redis_url,
        cfg.connect_timeout_ms,
        cfg.io_timeout_ms,
        cfg.reply_spin_us,
        cfg.tls_ca_file,
        cfg.tls_cert_file,
        cfg.tls_key_file
    );
    if let Some(ep) = pool().endpoints.get(&key) {
        return Ok(ep.clone());
    }
    let backend = Backend::build(cfg)?;
    let ep = Arc::new(Endpoint {
        key: key.clone(),
        server: format!("{}#{scope}", url::identity(&cfg.redis_url)?).into(),
        masked_url: cfg.masked_url(),
        backend,
        connect_timeout: cfg.connect_timeout(),
        io_timeout: cfg.io_timeout(),
        reply_spin_us: cfg.reply_spin_us,
        healthy: AtomicBool::new(false),
    });
    Ok(pool().endpoints.entry(key).or_insert(ep).clone())
}

impl Endpoint {
    pub fn id(&self) -> &str {
        &self.key
    }

    /// The server, however the URL spells it; identifies "the same lock" for re-entrancy.
    pub fn server(&self) -> &Arc<str> {
        &self.server
    }

    pub fn masked_url(&self) -> &str {
        &self.masked_url
    }

    pub fn io_timeout(&self) -> Duration {
        self.io_timeout
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Checks out a connection: an idle one of this process, or a new one.
    pub fn conn(self: &Arc<Self>) -> Result<Conn> {
        let generation = process::generation();
        if let Some(con) = self.pop_idle() {
            return Ok(Conn::new(self.clone(), con, generation, true));
        }
        let con = self.open()?;
        Ok(Conn::new(self.clone(), con, generation, false))
    }

    fn pop_idle(&self) -> Option<RawConn> {
        pool().idle.get_mut(&self.key)?.pop()
    }

    fn open(&self) -> Result<RawConn> {
        self.backend
            .connect(self.connect_timeout, self.io_timeout, self.reply_spin_us)
            .map_err(|e| self.fail(&e))
    }

    /// Clients for every primary of a Cluster (empty otherwise: the pooled
    /// connection already reaches the only primary).
    pub(crate) fn primaries(self: &Arc<Self>) -> Result<Vec<redis::Client>> {
        let mut conn = self.conn()?;
        let raw = conn.con.as_mut().expect("a checked-out connection is open");
        self.backend.primaries(raw).map_err(|e| self.fail(&e))
    }

    /// Runs `f` on a one-off connection to `client` (a single Cluster node),
    /// with this endpoint's timeouts.
    pub(crate) fn direct<T>(
        &self,
        client: &redis::Client,
        f: impl FnOnce(&mut dyn redis::ConnectionLike) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let run = || {
            let mut c = client.get_connection_with_timeout(self.connect_timeout)?;
            c.set_read_timeout(Some(self.io_timeout))?;
            c.set_write_timeout(Some(self.io_timeout))?;
            f(&mut c)
        };
        run().map_err(|e| self.fail(&e))
    }

    fn fail(&self, err: &redis::RedisError) -> Error {
        self.healthy.store(false, Ordering::Relaxed);
        stats::inc(|c| &c.backend_errors);
        let e = Error::backend(&self.masked_url, err);
        events::emit("error", "redis backend error", || {
            vec![
                ("redis", events::s(self.masked_url.clone())),
                ("error", events::s(e.to_string())),
            ]
        });
        e
    }

    fn put_idle(&self, con: RawConn) {
        self.healthy.store(true, Ordering::Relaxed);
        let mut pool = pool();
        // Every check-in but the first finds the list: no key to copy then.
        match pool.idle.get_mut(&self.key) {
            Some(list) if list.len() >= MAX_IDLE => {}
            Some(list) => list.push(con),
            None => {
                pool.idle.insert(self.key.clone(), vec![con]);
            }
        }
    }
}

/// A checked-out connection; returns itself to the pool when dropped unless it failed.
pub struct Conn {
    endpoint: Arc<Endpoint>,
    con: Option<RawConn>,
    generation: u64,
    /// Came from the idle list: a connection error may just mean it went stale.
    reused: bool,
}

impl Conn {
    fn new(endpoint: Arc<Endpoint>, con: RawConn, generation: u64, reused: bool) -> Self {
        Conn {
            endpoint,
            con: Some(con),
            generation,
            reused,
        }
    }

    /// Runs `f` on the connection. Every script and command the core sends is
    /// safe to repeat for the same owner, so a reused connection that turns out
    /// to be dead (Redis restarted while it sat idle) is replaced once and `f`
    /// retried; timeouts are never retried, so the caller fails within its budget.
    pub fn run<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn redis::ConnectionLike) -> redis::RedisResult<T>,
    ) -> Result<T> {
        loop {
            let con = match self.con.as_mut() {
                Some(c) => c,
                None => {
                    self.con = Some(self.endpoint.open()?);
                    self.reused = false;
                    self.con.as_mut().expect("just opened")
                }
            };
            match f(con.as_dyn()) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    // After any error the stream state is unknown: never reuse it.
                    if let Some(c) = self.con.take() {
                        drop_connection(c, self.generation);
                    }
                    let stale = self.reused
                        && !e.is_timeout()
                        && (e.is_connection_dropped() || e.is_io_error());
                    if !stale {
                        return Err(self.endpoint.fail(&e));
                    }
                }
            }
        }
    }

    /// Read timeout for one blocking command, restored by [`Conn::restore_timeout`].
    pub fn set_read_timeout(&mut self, d: Duration) -> Result<()> {
        let io = self.endpoint.io_timeout;
        self.with_raw(|c| c.set_read_timeout(Some(d.max(io))))
    }

    pub fn restore_timeout(&mut self) -> Result<()> {
        let io = self.endpoint.io_timeout;
        self.with_raw(|c| c.set_read_timeout(Some(io)))
    }

    /// WAIT until `replicas` replicas of the primary holding `key` have this
    /// connection's writes, or `timeout_ms` passes; returns how many did.
    pub fn wait_replicas(&mut self, key: &str, replicas: u64, timeout_ms: u64) -> Result<i64> {
        self.set_read_timeout(Duration::from_millis(timeout_ms) + self.endpoint.io_timeout)?;
        let n = self.with_raw(|c| c.wait_replicas(key, replicas, timeout_ms))?;
        self.restore_timeout()?;
        Ok(n)
    }

    fn with_raw<T>(&mut self, f: impl FnOnce(&mut RawConn) -> redis::RedisResult<T>) -> Result<T> {
        let con = match self.con.as_mut() {
            Some(c) => c,
            None => {
                self.con = Some(self.endpoint.open()?);
                self.con.as_mut().expect("just opened")
            }
        };
        f(con).map_err(|e| {
            if let Some(c) = self.con.take() {
                drop_connection(c, self.generation);
            }
            self.endpoint.fail(&e)
        })
    }

    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.endpoint
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(con) = self.con.take() {
            if self.generation == process::generation() {
                self.endpoint.put_idle(con);
            } else {
                std::mem::forget(con);
            }
        }
    }
}

fn drop_connection(con: RawConn, generation: u64) {
    if generation == process::generation() {
        drop(con);
    } else {
        std::mem::forget(con);
    }
}

/// Number of idle pooled connections of this process.
pub fn idle_count() -> usize {
    pool().idle.values().map(Vec::len).sum()
}

/// What this process knows of its connections to one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionState {
    /// Whether any object of this process has used the server yet.
    pub opened: bool,
    /// Whether the last attempt to talk to it worked.
    pub healthy: bool,
    /// Idle pooled connections to it.
    pub idle: usize,
}

/// This process' connection state for the endpoints whose masked URL is
/// `masked_url` (one server, whatever timeouts its objects use).
pub fn state_of(masked_url: &str) -> ConnectionState {
    let pool = pool();
    let mut opened = false;
    let mut healthy = false;
    for ep in pool
        .endpoints
        .values()
        .filter(|e| e.masked_url == masked_url)
    {
        opened = true;
        healthy |= ep.is_healthy();
    }
    let idle = pool
        .idle
        .iter()
        .filter(|(k, _)| {
            pool.endpoints
                .get(*k)
                .is_some_and(|e| e.masked_url == masked_url)
        })
        .map(|(_, v)| v.len())
        .sum::<usize>();
    ConnectionState {
        opened,
        healthy,
        idle,
    }
}
