//! What a `redis_url` names: one server, a Sentinel-watched primary or a
//! Cluster. Parsing only; the `redis` crate does the talking.
//!
//! - `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS), `unix:///path.sock[?db=N&pass=…]`
//! - `redis+cluster://[user:pass@]host1:port,host2:port` (seed nodes), `rediss+cluster://…`
//! - `redis+sentinel://[user:pass@]host1:port,host2:port/master_name[?db=N&sentinel_username=…&sentinel_password=…]`,
//!   `rediss+sentinel://…`. The user info is for the data nodes; sentinels
//!   take their own credentials from the query.

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Anything the redis crate parses itself (redis, rediss, unix).
    Single(String),
    Cluster(Nodes),
    Sentinel {
        nodes: Nodes,
        master: String,
        db: i64,
        sentinel_username: Option<String>,
        sentinel_password: Option<String>,
    },
}

/// Host list plus the data-node credentials and transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nodes {
    pub hosts: Vec<(String, u16)>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: bool,
}

impl Nodes {
    /// `redis://` or `rediss://` URL of one node, with the data-node credentials.
    pub fn node_url(&self, host: &str, port: u16, db: i64) -> String {
        self.url_with(
            host,
            port,
            db,
            self.username.as_deref(),
            self.password.as_deref(),
        )
    }

    /// `redis://` or `rediss://` URL of one node, with the given credentials
    /// (a sentinel's own, which may differ from the data nodes').
    pub fn url_with(
        &self,
        host: &str,
        port: u16,
        db: i64,
        username: Option<&str>,
        password: Option<&str>,
    ) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let auth = match (username, password) {
            (Some(u), Some(p)) => format!("{}:{}@", enc(u), enc(p)),
            (None, Some(p)) => format!(":{}@", enc(p)),
            (Some(u), None) => format!("{}@", enc(u)),
            (None, None) => String::new(),
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        format!("{scheme}://{auth}{host}:{port}/{db}")
    }
}

/// Replaces the password part of `scheme://user:password@host` with `***`.
/// The user info ends at the last `@` before the query, wherever a `/` is:
/// passwords with a raw `/` (common in generated ones) stay hidden too.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let main_end = rest.find('?').unwrap_or(rest.len());
    let Some(at) = rest[..main_end].rfind('@') else {
        return mask_query_password(url);
    };
    let userinfo = &rest[..at];
    let masked = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        // A user name alone; but a '/' in it means we cannot tell: hide it.
        None if userinfo.contains('/') => "***".to_string(),
        None => userinfo.to_string(),
    };
    mask_query_password(&format!("{scheme}://{masked}@{}", &rest[at + 1..]))
}

/// unix:// URLs carry credentials as `?pass=`.
fn mask_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.contains("pass") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// The two kinds of URL that name more than one node.
enum Multi {
    Cluster,
    Sentinel,
}

/// Why a URL is refused (the caller adds the masked URL).
type Why = &'static str;

pub fn parse(url: &str) -> Result<Target> {
    let bad = |why: &str| Error::invalid(format!("invalid redis_url \"{}\": {why}", mask_url(url)));
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("no scheme"));
    };
    let (kind, tls) = match scheme {
        "redis" | "rediss" | "unix" | "redis+unix" => return single(url).map_err(bad),
        "redis+cluster" => (Multi::Cluster, false),
        "rediss+cluster" => (Multi::Cluster, true),
        "redis+sentinel" => (Multi::Sentinel, false),
        "rediss+sentinel" => (Multi::Sentinel, true),
        _ => {
            return Err(bad(
                "scheme must be redis, rediss, unix, redis+cluster or redis+sentinel",
            ))
        }
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let nodes = nodes(authority, tls).map_err(bad)?;
    match kind {
        Multi::Cluster if !path.is_empty() => {
            Err(bad("a cluster has no database number or master name"))
        }
        Multi::Cluster => Ok(Target::Cluster(nodes)),
        Multi::Sentinel => sentinel(nodes, path, query).map_err(bad),
    }
}

/// A one-server URL, checked now with the crate's own parser, so that a
/// broken URL is refused when it is set (ini_set, php.ini), not at first use.
fn single(url: &str) -> std::result::Result<Target, Why> {
    redis::IntoConnectionInfo::into_connection_info(url).map_err(|_| {
        "not a valid redis, rediss or unix URL (percent-encode '/', '@' and ':' in passwords)"
    })?;
    Ok(Target::Single(url.to_string()))
}

/// `[user[:pass]@]host:port,host:port,...`: the nodes and their credentials.
fn nodes(authority: &str, tls: bool) -> std::result::Result<Nodes, Why> {
    let (userinfo, hostlist) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => match u.split_once(':') {
            Some((user, pass)) => (nonempty(dec(user)), nonempty(dec(pass))),
            None => (nonempty(dec(u)), None),
        },
    };
    let mut hosts = Vec::new();
    for h in hostlist.split(',').filter(|h| !h.is_empty()) {
        let (host, port) = h.rsplit_once(':').ok_or("every node needs host:port")?;
        let port: u16 = port.parse().map_err(|_| "a port is not a number")?;
        hosts.push((
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        ));
    }
    if hosts.is_empty() {
        return Err("no nodes given");
    }
    Ok(Nodes {
        hosts,
        username,
        password,
        tls,
    })
}

/// The sentinels' `nodes`, the master name (`path`) and the query's database
/// number and sentinel credentials.
fn sentinel(nodes: Nodes, path: &str, query: &str) -> std::result::Result<Target, Why> {
    let master = dec(path);
    if master.is_empty() {
        return Err("a sentinel URL needs the master name as its path");
    }
    let mut db = 0;
    let mut sentinel_username = None;
    let mut sentinel_password = None;
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "db" => db = v.parse().map_err(|_| "db must be a number")?,
            "sentinel_username" => sentinel_username = nonempty(dec(v)),
            "sentinel_password" => sentinel_password = nonempty(dec(v)),
            _ => return Err("unknown query parameter"),
        }
    }
    Ok(Target::Sentinel {
        nodes,
        master,
        db,
        sentinel_username,
        sentinel_password,
    })
}

/// Which server and database a URL names, whatever its spelling: the same
/// for `redis://h:6379` and `redis://h:6379/0`, for any password or query
/// string, for `localhost` and `127.0.0.1`. Two URLs with the same identity
/// reach the same locks, so a process' re-entrancy must join them. Never
/// contains a password.
pub fn identity(url: &str) -> Result<String> {
    let host = |h: &str| {
        let h = h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if h == "localhost" {
            "127.0.0.1".to_string()
        } else {
            h
        }
    };
    let hosts = |nodes: &Nodes| {
        let mut list: Vec<String> = nodes
            .hosts
            .iter()
            .map(|(h, p)| format!("{}:{p}", host(h)))
            .collect();
        list.sort();
        list.dedup();
        list.join(",")
    };
    let user = |u: Option<&str>| u.unwrap_or("default").to_string();
    Ok(match parse(url)? {
        Target::Single(u) => {
            let info = redis::IntoConnectionInfo::into_connection_info(u.as_str())
                .map_err(|_| Error::invalid("invalid redis_url"))?;
            let settings = info.redis_settings();
            let addr = match info.addr() {
                redis::ConnectionAddr::Tcp(h, p) => format!("tcp {}:{p}", host(h)),
                redis::ConnectionAddr::TcpTls { host: h, port, .. } => {
                    format!("tcp {}:{port}", host(h))
                }
                redis::ConnectionAddr::Unix(path) => format!("unix {}", path.display()),
                other => format!("{other}"),
            };
            format!(
                "{addr} db {} user {}",
                settings.db(),
                user(settings.username())
            )
        }
        Target::Cluster(nodes) => format!(
            "cluster {} user {}",
            hosts(&nodes),
            user(nodes.username.as_deref())
        ),
        Target::Sentinel {
            nodes, master, db, ..
        } => format!(
            "sentinel {} master {master} db {db} user {}",
            hosts(&nodes),
            user(nodes.username.as_deref())
        ),
    })
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Percent-decoding of URL components (credentials may contain `@` or `:`).
fn dec(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn identity_ignores_spelling_and_secrets_but_not_the_server() {
        let id = |u: &str| identity(u).unwrap();
        let same = [
            "redis://127.0.0.1:6379",
            "redis://127.0.0.1:6379/0",
            "redis://:secret@localhost:6379/0",
            "redis://default:other@127.0.0.1:6379?protocol=resp2",
        ];
        for u in same {
            assert_eq!(id(u), id(same[0]), "{u}");
            assert!(!id(u).contains("secret") && !id(u).contains("other"));
        }
        for u in [
            "redis://127.0.0.1:6380",
            "redis://127.0.0.1:6379/1",
            "redis://app:pw@127.0.0.1:6379",
            "unix:///run/redis.sock",
        ] {
            assert_ne!(id(u), id(same[0]), "{u}");
        }
        assert_eq!(
            id("redis+cluster://b:2,a:1"),
            id("redis+cluster://:pw@a:1,b:2,a:1")
        );
        assert_eq!(
            id("redis+sentinel://s2:2,s1:1/m?sentinel_password=x"),
            id("redis+sentinel://s1:1,s2:2/m?db=0")
        );
        assert_ne!(
            id("redis+sentinel://s1:1/m"),
            id("redis+sentinel://s1:1/m?db=2")
        );
    }
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            parse("redis://h:1/2").unwrap(),
            Target::Single("redis://h:1/2".into())
        );
        match parse("redis+cluster://u:p%40ss@a:7000,b:7001").unwrap() {
            Target::Cluster(n) => {
                assert_eq!(n.hosts, vec![("a".into(), 7000), ("b".into(), 7001)]);
                assert_eq!(n.username.as_deref(), Some("u"));
                assert_eq!(n.password.as_deref(), Some("p@ss"));
                assert!(!n.tls);
                assert_eq!(n.node_url("c", 7002, 0), "redis://u:p%40ss@c:7002/0");
            }
            other => panic!("{other:?}"),
        }
        match parse("rediss+sentinel://:pw@s1:26379,s2:26380/mymaster?db=3&sentinel_password=sp")
            .unwrap()
        {
            Target::Sentinel {
                nodes,
                master,
                db,
                sentinel_password,
                ..
            } => {
                assert!(nodes.tls);
                assert_eq!(nodes.password.as_deref(), Some("pw"));
                assert_eq!(master, "mymaster");
                assert_eq!(db, 3);
                assert_eq!(sentinel_password.as_deref(), Some("sp"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            parse("redis://:Zx9/Secret+Pw").is_err(),
            "a password with a raw '/' breaks the URL"
        );
        assert!(parse("redis://:Zx9%2FSecret@h:1").is_ok());
        for bad in [
            "redis+sentinel://s1:1",
            "redis+cluster://",
            "redis+cluster://a",
            "redis+cluster://a:x",
            "redis+cluster://a:1/0",
            "redis+sentinel://s:1/m?nope=1",
            "http://x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
