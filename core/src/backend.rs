//! The three ways to reach Redis: one server, a Cluster, or the primary that
//! Sentinel names. Built from the `redis` crate's own clients; this file only
//! picks one, applies timeouts and TLS, and offers the few operations whose
//! routing differs (WAIT, walking every primary).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::url::{self, Nodes, Target};
use crate::wire::{self, PlainConn};
use redis::cluster::{ClusterClient, ClusterConnection};
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{ConnectionLike, RedisResult, TlsCertificates, TlsMode};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) enum Backend {
    Single(redis::Client),
    Cluster {
        client: Box<ClusterClient>,
        nodes: Nodes,
        certs: Option<TlsCertificates>,
    },
    Sentinel(Box<SentinelTarget>),
}

pub(crate) struct SentinelTarget {
    nodes: Nodes,
    master: String,
    db: i64,
    sentinel_username: Option<String>,
    sentinel_password: Option<String>,
    certs: Option<TlsCertificates>,
    /// The primary the sentinels named last (see [`SentinelTarget::connect_primary`]).
    primary: Mutex<Option<redis::Client>>,
}

/// An open connection of any kind.
pub enum RawConn {
    /// One server without TLS: our own connection, which polls for replies.
    Plain(PlainConn),
    /// One server over TLS.
    Single(redis::Connection),
    Cluster(Box<ClusterConnection>),
}

impl RawConn {
    pub fn as_dyn(&mut self) -> &mut dyn ConnectionLike {
        match self {
            RawConn::Plain(c) => c,
            RawConn::Single(c) => c,
            RawConn::Cluster(c) => c.as_mut(),
        }
    }

    pub fn set_read_timeout(&mut self, d: Option<Duration>) -> RedisResult<()> {
        match self {
            RawConn::Plain(c) => c.set_read_timeout(d),
            RawConn::Single(c) => c.set_read_timeout(d),
            RawConn::Cluster(c) => c.set_read_timeout(d),
        }
    }

    fn set_write_timeout(&self, d: Option<Duration>) -> RedisResult<()> {
        match self {
            RawConn::Plain(c) => c.set_write_timeout(d),
            RawConn::Single(c) => c.set_write_timeout(d),
            RawConn::Cluster(c) => c.set_write_timeout(d),
        }
    }

    /// WAIT on the primary that holds `key`, for this connection's writes there.
    pub fn wait_replicas(&mut self, key: &str, replicas: u64, timeout_ms: u64) -> RedisResult<i64> {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(replicas).arg(timeout_ms);
        match self {
            RawConn::Plain(c) => cmd.query(c),
            RawConn::Single(c) => cmd.query(c),
            RawConn::Cluster(c) => {
                let route =
                    SingleNodeRoutingInfo::SpecificNode(Route::with_key(key, SlotAddr::Master));
                match c.route_command(&cmd, RoutingInfo::SingleNode(route))? {
                    redis::Value::Int(n) => Ok(n),
                    _ => Err(io_error("WAIT gave no count")),
                }
            }
        }
    }
}

/// No `CLIENT SETINFO` after connecting: two more replies to wait for (Redis
/// before 7.2 does not even know the command), each of which redis-rs gives
/// the whole connect timeout.
fn quick_handshake(info: redis::ConnectionInfo) -> redis::ConnectionInfo {
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    info.set_redis_settings(settings)
}

/// redis-rs waits up to the remaining connect timeout for each reply of its
/// handshake (AUTH, SELECT): split the budget so that connecting to a server
/// that accepts but never answers fails within `connect_timeout_ms`.
fn handshake_budget(client: &redis::Client, connect: Duration) -> Duration {
    let info = client.get_connection_info().redis_settings();
    let steps = 1 + u32::from(info.password().is_some()) + u32::from(info.db() != 0);
    connect / steps
}

/// rustls needs a crypto provider chosen once per process.
fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn read_pem(what: &str, path: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::invalid(format!("{what} \"{path}\" cannot be read: {e}")))
}

/// CA and client certificate from the settings; None means the system trust store.
fn certificates(cfg: &Config) -> Result<Option<TlsCertificates>> {
    if cfg.tls_ca_file.is_empty() && cfg.tls_cert_file.is_empty() && cfg.tls_key_file.is_empty() {
        return Ok(None);
    }
    let client_tls = match (cfg.tls_cert_file.as_str(), cfg.tls_key_file.as_str()) {
        ("", "") => None,
        ("", _) | (_, "") => {
            return Err(Error::invalid("tls_cert_file and tls_key_file go together"));
        }
        (cert, key) => Some(redis::ClientTlsConfig {
            client_cert: read_pem("tls_cert_file", cert)?,
            client_key: read_pem("tls_key_file", key)?,
        }),
    };
    let root_cert = match cfg.tls_ca_file.as_str() {
        "" => None,
        ca => Some(read_pem("tls_ca_file", ca)?),
    };
    Ok(Some(TlsCertificates {
        client_tls,
        root_cert,
    }))
}

/// How a URL the `redis` crate refuses is reported.
fn invalid_url(cfg: &Config, e: redis::RedisError) -> Error {
    Error::invalid(format!(
        "invalid redis_url \"{}\": {}",
        cfg.masked_url(),
        e.detail().unwrap_or("cannot parse")
    ))
}

impl Backend {
    pub fn build(cfg: &Config) -> Result<Backend> {
        install_crypto();
        let certs = certificates(cfg)?;
        Ok(match url::parse(&cfg.redis_url)? {
            Target::Single(u) => Backend::single(cfg, &u, certs)?,
            Target::Cluster(nodes) => Backend::cluster(cfg, nodes, certs)?,
            Target::Sentinel {
                nodes,
                master,
                db,
                sentinel_username,
                sentinel_password,
            } => Backend::Sentinel(Box::new(SentinelTarget {
                nodes,
                master,
                db,
                sentinel_username,
                sentinel_password,
                certs,
                primary: Mutex::new(None),
            })),
        })
    }

    /// One server; the certificates apply to a `rediss://` URL only.
    fn single(cfg: &Config, url: &str, certs: Option<TlsCertificates>) -> Result<Backend> {
        let info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(|e| invalid_url(cfg, e))?;
        let info = quick_handshake(info);
        let client = match certs {
            Some(c) if url.starts_with("rediss://") => redis::Client::build_with_tls(info, c),
            _ => redis::Client::open(info),
        };
        Ok(Backend::Single(client.map_err(|e| invalid_url(cfg, e))?))
    }

    /// A Cluster reached through its seed nodes, following MOVED/ASK and a
    /// node restart but failing within the timeouts.
    fn cluster(cfg: &Config, nodes: Nodes, certs: Option<TlsCertificates>) -> Result<Backend> {
        let seeds: Vec<String> = nodes
            .hosts
            .iter()
            .map(|(h, p)| nodes.node_url(h, *p, 0))
            .collect();
        let mut b = ClusterClient::builder(seeds)
            .connection_timeout(cfg.connect_timeout())
            .response_timeout(cfg.io_timeout())
            .retries(2)
            .min_retry_wait(10)
            .max_retry_wait(100);
        if let Some(u) = &nodes.username {
            b = b.username(u);
        }
        if let Some(p) = &nodes.password {
            b = b.password(p);
        }
        if nodes.tls {
            b = b.tls(TlsMode::Secure);
            if let Some(c) = certs.clone() {
                b = b.certs(c);
            }
        }
        Ok(Backend::Cluster {
            client: Box::new(b.build().map_err(|e| invalid_url(cfg, e))?),
            nodes,
            certs,
        })
    }

    /// Opens a connection with the connect timeout, then sets the I/O timeouts.
    /// `spin_us`: how long a plain connection polls for a reply (see [`crate::spin`]).
    pub fn connect(&self, connect: Duration, io: Duration, spin_us: u64) -> RedisResult<RawConn> {
        let with_timeouts = |mut conn: RawConn| -> RedisResult<RawConn> {
            conn.set_read_timeout(Some(io))?;
            conn.set_write_timeout(Some(io))?;
            Ok(conn)
        };
        let one = |c: &redis::Client| -> RedisResult<RawConn> {
            let info = c.get_connection_info();
            with_timeouts(if wire::supports(info) {
                RawConn::Plain(PlainConn::connect(info, connect, io, spin_us)?)
            } else {
                RawConn::Single(c.get_connection_with_timeout(handshake_budget(c, connect))?)
            })
        };
        match self {
            Backend::Single(c) => one(c),
            Backend::Cluster { client, .. } => {
                with_timeouts(RawConn::Cluster(Box::new(client.get_connection()?)))
            }
            Backend::Sentinel(s) => s.connect_primary(connect, io, one),
        }
    }

    /// Direct clients to every primary, for commands that must visit each (SCAN).
    pub fn primaries(&self, conn: &mut RawConn) -> RedisResult<Vec<redis::Client>> {
        let Backend::Cluster { nodes, certs, .. } = self else {
            return Ok(Vec::new());
        };
        let RawConn::Cluster(c) = conn else {
            return Ok(Vec::new());
        };
        let slots: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(c)?;
        primary_addresses(slots)
            .into_iter()
            .map(|(h, p)| {
                let u = nodes.node_url(&h, p, 0);
                match certs.clone() {
                    Some(c) if nodes.tls => redis::Client::build_with_tls(u, c),
                    _ => redis::Client::open(u),
                }
            })
            .collect()
    }
}

/// Host and port of each primary in a `CLUSTER SLOTS` reply
/// (`[[start, end, [host, port, id], replicas...], ...]`), each once.
fn primary_addresses(slots: Vec<redis::Value>) -> BTreeSet<(String, u16)> {
    let mut seen = BTreeSet::new();
    for range in slots {
        let redis::Value::Array(parts) = range else {
            continue;
        };
        let Some(redis::Value::Array(primary)) = parts.get(2) else {
            continue;
        };
        let host = match primary.first() {
            Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(redis::Value::SimpleString(s)) => s.clone(),
            _ => continue,
        };
        let Some(redis::Value::Int(port)) = primary.get(1) else {
            continue;
        };
        seen.insert((host, *port as u16));
    }
    seen
}

impl SentinelTarget {
    /// A connection to the primary. The primary the sentinels named last is
    /// kept and reused until connecting to it fails or it answers that it is
    /// no longer a primary (after a failover); then the sentinels are asked
    /// again, once.
    fn connect_primary(
        &self,
        connect: Duration,
        io: Duration,
        open: impl Fn(&redis::Client) -> RedisResult<RawConn>,
    ) -> RedisResult<RawConn> {
        let known = self
            .primary
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(client) = known {
            match open(&client).and_then(ensure_primary) {
                Ok(conn) => return Ok(conn),
                Err(_) => *self.primary.lock().unwrap_or_else(|p| p.into_inner()) = None,
            }
        }
        let client = self.ask_sentinels(connect, io)?;
        let conn = open(&client).and_then(ensure_primary)?;
        *self.primary.lock().unwrap_or_else(|p| p.into_inner()) = Some(client);
        Ok(conn)
    }

    /// Asks the sentinels in turn which node is the primary now, each on a
    /// connection with the connect and I/O timeouts (a sentinel that accepts
    /// and never answers costs a timeout, never a thread), all within one
    /// connect + io budget.
    fn ask_sentinels(&self, connect: Duration, io: Duration) -> RedisResult<redis::Client> {
        let deadline = Instant::now() + connect + io;
        let mut last_error = None;
        for (host, port) in &self.nodes.hosts {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.ask_one(host, *port, connect.min(left), io.min(left)) {
                Ok(Some((h, p))) => return self.data_client(&h, p),
                Ok(None) => last_error = Some(io_error("a sentinel does not know the primary")),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io_error("sentinels did not answer in time")))
    }

    fn ask_one(
        &self,
        host: &str,
        port: u16,
        connect: Duration,
        io: Duration,
    ) -> RedisResult<Option<(String, u16)>> {
        let url = self.nodes.url_with(
            host,
            port,
            0,
            self.sentinel_username.as_deref(),
            self.sentinel_password.as_deref(),
        );
        let client = self.client(url)?;
        let mut conn = client.get_connection_with_timeout(handshake_budget(&client, connect))?;
        conn.set_read_timeout(Some(io))?;
        conn.set_write_timeout(Some(io))?;
        redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.master)
            .query(&mut conn)
    }

    fn data_client(&self, host: &str, port: u16) -> RedisResult<redis::Client> {
        self.client(self.nodes.node_url(host, port, self.db))
    }

    fn client(&self, url: String) -> RedisResult<redis::Client> {
        let info = quick_handshake(redis::IntoConnectionInfo::into_connection_info(url)?);
        match (&self.certs, self.nodes.tls) {
            (Some(c), true) => redis::Client::build_with_tls(info, c.clone()),
            _ => redis::Client::open(info),
        }
    }
}

/// Keeps a connection only if its server says it is a primary: a node the
/// sentinels named may have been demoted since.
fn ensure_primary(mut conn: RawConn) -> RedisResult<RawConn> {
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(conn.as_dyn())?;
    match role.first() {
        Some(redis::Value::BulkString(b)) if b == b"master" => Ok(conn),
        Some(redis::Value::SimpleString(s)) if s == "master" => Ok(conn),
        _ => Err(io_error("the node the sentinels named is not a primary")),
    }
}

fn io_error(msg: &str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        msg.to_string(),
    ))
}
