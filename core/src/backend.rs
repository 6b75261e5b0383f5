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
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{ConnectionAddr, ConnectionLike, RedisResult, TlsCertificates, TlsMode};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) enum Backend {
    Single(redis::Client),
    Cluster {
        client: Box<ClusterClient>,
        nodes: Nodes,
        certs: Option<TlsCertificates>,
    },
    Sentinel(SentinelTarget),
}

pub(crate) struct SentinelTarget {
    nodes: Nodes,
    master: String,
    db: i64,
    sentinel_username: Option<String>,
    sentinel_password: Option<String>,
    certs: Option<TlsCertificates>,
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

impl Backend {
    pub fn build(cfg: &Config) -> Result<Backend> {
        install_crypto();
        let certs = certificates(cfg)?;
        let invalid = |e: redis::RedisError| {
            Error::invalid(format!(
                "invalid redis_url \"{}\": {}",
                cfg.masked_url(),
                e.detail().unwrap_or("cannot parse")
            ))
        };
        Ok(match url::parse(&cfg.redis_url)? {
            Target::Single(u) => {
                let info =
                    redis::IntoConnectionInfo::into_connection_info(u.as_str()).map_err(invalid)?;
                let info = quick_handshake(info);
                Backend::Single(match certs {
                    Some(c) if u.starts_with("rediss://") => {
                        redis::Client::build_with_tls(info, c).map_err(invalid)?
                    }
                    _ => redis::Client::open(info).map_err(invalid)?,
                })
            }
            Target::Cluster(nodes) => {
                let seeds: Vec<String> = nodes
                    .hosts
                    .iter()
                    .map(|(h, p)| nodes.node_url(h, *p, 0))
                    .collect();
                let mut b = ClusterClient::builder(seeds)
                    .connection_timeout(cfg.connect_timeout())
                    .response_timeout(cfg.io_timeout())
                    // Follow MOVED/ASK and a node restart, but fail within the budget.
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
                Backend::Cluster {
                    client: Box::new(b.build().map_err(invalid)?),
                    nodes,
                    certs,
                }
            }
            Target::Sentinel {
                nodes,
                master,
                db,
                sentinel_username,
                sentinel_password,
            } => Backend::Sentinel(SentinelTarget {
                nodes,
                master,
                db,
                sentinel_username,
                sentinel_password,
                certs,
            }),
        })
    }

    /// Opens a connection with the connect timeout, then sets the I/O timeouts.
    /// `spin_us`: how long a plain connection polls for a reply (see [`crate::spin`]).
    pub fn connect(&self, connect: Duration, io: Duration, spin_us: u64) -> RedisResult<RawConn> {
        let one = |c: &redis::Client, connect: Duration| -> RedisResult<RawConn> {
            let info = c.get_connection_info();
            if wire::supports(info) {
                Ok(RawConn::Plain(PlainConn::connect(
                    info, connect, io, spin_us,
                )?))
            } else {
                Ok(RawConn::Single(c.get_connection_with_timeout(
                    handshake_budget(c, connect),
                )?))
            }
        };
        let mut conn = match self {
            Backend::Single(c) => one(c, connect)?,
            Backend::Cluster { client, .. } => RawConn::Cluster(Box::new(client.get_connection()?)),
            Backend::Sentinel(s) => one(&s.primary(connect, io)?, connect)?,
        };
        conn.set_read_timeout(Some(io))?;
        conn.set_write_timeout(Some(io))?;
        Ok(conn)
    }

    /// Direct clients to every primary, for commands that must visit each (SCAN).
    pub fn primaries(&self, conn: &mut RawConn) -> RedisResult<Vec<redis::Client>> {
        let Backend::Cluster { nodes, certs, .. } = self else {
            return Ok(Vec::new());
        };
        let RawConn::Cluster(c) = conn else {
            return Ok(Vec::new());
        };
        // CLUSTER SLOTS: [[start, end, [host, port, id], replicas...], ...]
        let slots: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(c)?;
        let mut seen = std::collections::BTreeSet::new();
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
        seen.into_iter()
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

impl SentinelTarget {
    /// Asks the sentinels which node is the primary now. redis-rs talks to
    /// sentinels without timeouts, so a frozen sentinel would hang the PHP
    /// worker: the question runs on a helper thread that we wait for at most
    /// connect + io timeout, then give up (the thread ends when the sentinel
    /// answers or its socket dies).
    fn primary(&self, connect: Duration, io: Duration) -> RedisResult<redis::Client> {
        let nodes = self.nodes.clone();
        let (master, db) = (self.master.clone(), self.db);
        let (s_user, s_pass) = (
            self.sentinel_username.clone(),
            self.sentinel_password.clone(),
        );
        let certs = self.certs.clone();
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("monei-sentinel".into())
            .spawn(move || {
                let addrs = nodes.hosts.iter().map(|(h, p)| {
                    if nodes.tls {
                        ConnectionAddr::TcpTls {
                            host: h.clone(),
                            port: *p,
                            insecure: false,
                            tls_params: None,
                        }
                    } else {
                        ConnectionAddr::Tcp(h.clone(), *p)
                    }
                });
                let built = SentinelClientBuilder::new(addrs, master, SentinelServerType::Master)
                    .map(|mut b| {
                        b = b.set_client_to_redis_db(db);
                        if let Some(u) = &nodes.username {
                            b = b.set_client_to_redis_username(u);
                        }
                        if let Some(p) = &nodes.password {
                            b = b.set_client_to_redis_password(p);
                        }
                        if let Some(u) = &s_user {
                            b = b.set_client_to_sentinel_username(u);
                        }
                        if let Some(p) = &s_pass {
                            b = b.set_client_to_sentinel_password(p);
                        }
                        if nodes.tls {
                            b = b
                                .set_client_to_redis_tls_mode(TlsMode::Secure)
                                .set_client_to_sentinel_tls_mode(TlsMode::Secure);
                            if let Some(c) = certs {
                                b = b
                                    .set_client_to_redis_certificates(c.clone())
                                    .set_client_to_sentinel_certificates(c);
                            }
                        }
                        b
                    });
                let result = built
                    .and_then(|b| b.build())
                    .and_then(|mut c| c.get_client());
                let _ = tx.send(result);
            });
        if spawned.is_err() {
            return Err(io_error("cannot start the sentinel lookup"));
        }
        rx.recv_timeout(connect + io)
            .unwrap_or_else(|_| Err(io_error("sentinels did not answer in time")))
    }
}

fn io_error(msg: &str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        msg.to_string(),
    ))
}
