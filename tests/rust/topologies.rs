//! Beyond one Redis: Cluster, Sentinel failover, replica acknowledgement,
//! TLS and ACL users. Every server here is started by the test itself on
//! loopback ports.

mod support;

use monei_concurrency_core::{
    monitor, Config, Error, ExecError, IdempotencyStore, Locker, Once, PaymentStateMachine,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// A scratch directory (server configs, TLS keys and certificates) that is
/// removed when dropped, also when the test fails. Declare it before the
/// servers that use it, so they are stopped first.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!(
        "monei-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

fn cmd(url: &str, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(&mut raw(url)).unwrap()
}

fn text(v: redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        redis::Value::SimpleString(s) => s,
        redis::Value::VerbatimString { text, .. } => text,
        other => format!("{other:?}"),
    }
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Cluster {
    servers: Vec<RedisServer>,
    _dir: TempDir,
}

impl Cluster {
    /// Three primaries and three replicas, made with `redis-cli --cluster create`.
    fn start() -> Cluster {
        let dir = tempdir("cluster");
        let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
        let servers: Vec<RedisServer> = ports
            .iter()
            .map(|p| {
                let conf = dir.join(format!("nodes-{p}.conf"));
                RedisServer::start_with(
                    *p,
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        conf.to_str().unwrap(),
                        "--cluster-node-timeout",
                        "2000",
                        "--dir",
                        dir.to_str().unwrap(),
                    ],
                )
            })
            .collect();
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        for p in &ports {
            let url = format!("redis://127.0.0.1:{p}");
            wait_until("cluster_state:ok", Duration::from_secs(30), || {
                text(cmd(&url, &["CLUSTER", "INFO"])).contains("cluster_state:ok")
            });
        }
        Cluster { servers, _dir: dir }
    }

    /// Seed list, rotated by `n`: a different spelling of the same cluster
    /// behaves like another process (re-entrancy is per URL).
    fn url(&self, n: usize) -> String {
        let mut ports: Vec<u16> = self.servers.iter().map(|s| s.port).collect();
        let len = ports.len();
        ports.rotate_left(n % len);
        let seeds: Vec<String> = ports[..3]
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    fn primaries(&self) -> Vec<u16> {
        self.servers
            .iter()
            .map(|s| s.port)
            .filter(|p| text(cmd(&format!("redis://127.0.0.1:{p}"), &["ROLE"])).contains("master") || {
                let v = cmd(&format!("redis://127.0.0.1:{p}"), &["ROLE"]);
                matches!(&v, redis::Value::Array(a) if a.first().map(|x| text(x.clone())) == Some("master".into()))
            })
            .collect()
    }
}

fn cluster_config(url: String) -> Config {
    Config {
        redis_url: url,
        key_prefix: unique_prefix(),
        connect_timeout_ms: 1000,
        ..Config::default()
    }
}

#[test]
fn cluster_locks_idempotency_and_listing() {
    let cluster = Cluster::start();
    let cfg = cluster_config(cluster.url(0));
    let a = Locker::new(cfg.clone()).unwrap();

    // Locks of many orders spread over every slot range; each script touches
    // one slot because all keys of an order share its hash tag.
    let mut held = Vec::new();
    for i in 0..40 {
        let order = format!("1000{i}");
        let o = a
            .acquire(&a.order(order.as_bytes()).unwrap(), Some(0), None)
            .unwrap();
        let p = a
            .acquire(&a.payment(order.as_bytes(), b"pay").unwrap(), Some(0), None)
            .unwrap();
        held.push(o);
        held.push(p);
    }
    let listed = monitor::list(&cfg, None, 1000).unwrap();
    assert_eq!(listed.len(), 80, "locks() walks every primary");
    let per_primary: Vec<i64> = cluster
        .primaries()
        .iter()
        .map(
            |p| match cmd(&format!("redis://127.0.0.1:{p}"), &["DBSIZE"]) {
                redis::Value::Int(n) => n,
                _ => 0,
            },
        )
        .collect();
    assert_eq!(per_primary.len(), 3);
    assert!(
        per_primary.iter().all(|n| *n > 0),
        "keys on every primary: {per_primary:?}"
    );
    for l in held.drain(..) {
        assert!(l.release().unwrap());
    }
    assert!(monitor::list(&cfg, None, 1000).unwrap().is_empty());

    // Mutual exclusion: four "processes" on one payment lock.
    let res = a.payment(b"42", b"pay_x").unwrap();
    let inside = Arc::new(AtomicU32::new(0));
    let overlaps = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (1..=4)
        .map(|n| {
            let (url, prefix, res, inside, overlaps) = (
                cluster.url(n),
                cfg.key_prefix.clone(),
                res.clone(),
                inside.clone(),
                overlaps.clone(),
            );
            std::thread::spawn(move || {
                let l = Locker::new(Config {
                    key_prefix: prefix,
                    ..cluster_config(url)
                })
                .unwrap();
                for _ in 0..25 {
                    let r = l.execute(&res, Some(30_000), None, |_| {
                        if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                            overlaps.fetch_add(1, Ordering::SeqCst);
                        }
                        std::thread::sleep(Duration::from_micros(300));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, ()>(())
                    });
                    assert!(r.is_ok());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);

    // Exactly once: four callers, the same 50 keys.
    let runs = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (1..=4)
        .map(|n| {
            let (url, prefix, runs) = (cluster.url(n), cfg.key_prefix.clone(), runs.clone());
            std::thread::spawn(move || {
                let s = IdempotencyStore::new(
                    Config {
                        key_prefix: prefix,
                        ..cluster_config(url)
                    },
                    &[],
                )
                .unwrap();
                for k in 0..50 {
                    let key = format!("evt_{k}");
                    let r = s.once(key.as_bytes(), b"", 10_000, || {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, ()>(((), key.as_bytes().to_vec()))
                    });
                    assert!(matches!(r, Ok(Once::Ran(_)) | Ok(Once::Replayed(_))));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 50);

    let sm = PaymentStateMachine::new(cfg.clone(), &[]).unwrap();
    assert!(sm.advance(b"pay_c", "AUTHORIZED").unwrap());
    assert!(sm.advance(b"pay_c", "SUCCEEDED").unwrap());
    assert!(!sm.advance(b"pay_c", "PENDING").unwrap());
}

#[test]
fn cluster_follows_a_slot_migration() {
    let cluster = Cluster::start();
    let cfg = cluster_config(cluster.url(0));
    let a = Locker::new(cfg.clone()).unwrap();
    let res = a.order(b"moving").unwrap();
    let lease = a.acquire(&res, Some(0), Some(60_000)).unwrap();
    let key = res.lock_key();

    // Move the key's slot to another primary by hand, under the client's feet.
    let any = format!("redis://127.0.0.1:{}", cluster.servers[0].port);
    let slot = match cmd(&any, &["CLUSTER", "KEYSLOT", key]) {
        redis::Value::Int(n) => n,
        other => panic!("{other:?}"),
    };
    let primaries = cluster.primaries();
    let owner = *primaries
        .iter()
        .find(|p| {
            matches!(cmd(&format!("redis://127.0.0.1:{p}"), &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]), redis::Value::Int(n) if n > 0)
        })
        .expect("some primary owns the slot");
    let target = *primaries.iter().find(|p| **p != owner).unwrap();
    let (src, dst) = (
        format!("redis://127.0.0.1:{owner}"),
        format!("redis://127.0.0.1:{target}"),
    );
    let src_id = text(cmd(&src, &["CLUSTER", "MYID"]));
    let dst_id = text(cmd(&dst, &["CLUSTER", "MYID"]));
    let s = slot.to_string();
    cmd(&dst, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &src_id]);
    cmd(&src, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &dst_id]);
    let keys = match cmd(&src, &["CLUSTER", "GETKEYSINSLOT", &s, "1000"]) {
        redis::Value::Array(v) => v.into_iter().map(text).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let mut migrate = vec!["MIGRATE", "127.0.0.1"];
    let tp = target.to_string();
    migrate.extend([tp.as_str(), "", "0", "5000", "KEYS"]);
    migrate.extend(keys.iter().map(String::as_str));
    cmd(&src, &migrate);
    for p in &primaries {
        cmd(
            &format!("redis://127.0.0.1:{p}"),
            &["CLUSTER", "SETSLOT", &s, "NODE", &dst_id],
        );
    }

    // The pooled connection still believes the old owner: MOVED must be followed.
    assert!(a.is_locked(&res).unwrap());
    assert!(lease.is_held().unwrap());
    assert!(lease.release().unwrap());
    assert!(!a.is_locked(&res).unwrap());
    let again = a.acquire(&res, Some(0), None).unwrap();
    assert!(
        matches!(cmd(&dst, &["EXISTS", key]), redis::Value::Int(1)),
        "the lock now lives on the new owner"
    );
    assert!(again.release().unwrap());
}

fn write_sentinel_conf(dir: &Path, port: u16, primary: u16) -> PathBuf {
    let path = dir.join(format!("sentinel-{port}.conf"));
    std::fs::write(
        &path,
        format!(
            "port {port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 {primary} 2\n\
             sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n\
             sentinel parallel-syncs mymaster 1\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn sentinel_failover_fails_cleanly_then_recovers() {
    let dir = tempdir("sentinel");
    let (p0, p1) = (free_port(), free_port());
    let mut primary = RedisServer::start_on(p0);
    let replica = RedisServer::start_with(p1, &["--replicaof", "127.0.0.1", &p0.to_string()]);
    wait_until("replica in sync", Duration::from_secs(20), || {
        text(cmd(&replica.url(), &["INFO", "replication"])).contains("master_link_status:up")
    });
    let sports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _sentinels: Vec<RedisServer> = sports
        .iter()
        .map(|s| {
            let conf = write_sentinel_conf(&dir, *s, p0);
            let srv = RedisServer::spawn(*s, Some(conf.to_str().unwrap()), &["--sentinel"]);
            srv.wait_ready();
            srv
        })
        .collect();
    wait_until("sentinels agree", Duration::from_secs(30), || {
        // An error reply (NOQUORUM) until the sentinels have found each other.
        redis::cmd("SENTINEL")
            .arg("CKQUORUM")
            .arg("mymaster")
            .query::<String>(&mut raw(&format!("redis://127.0.0.1:{}", sports[0])))
            .is_ok_and(|r| r.starts_with("OK"))
    });
    let seeds: Vec<String> = sports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let cfg = Config {
        redis_url: format!("redis+sentinel://{}/mymaster", seeds.join(",")),
        key_prefix: unique_prefix(),
        connect_timeout_ms: 300,
        io_timeout_ms: 500,
        ..Config::default()
    };
    let locker = Locker::new(cfg.clone()).unwrap();
    let store = IdempotencyStore::new(cfg.clone(), &[]).unwrap();

    // The lock + idempotency workload, before, during and after the switch.
    let start = Instant::now();
    let mut killed_at = None;
    let (mut ok_before, mut failed, mut ok_after) = (0, 0, 0);
    let (mut first_failure, mut first_success_after): (Option<Duration>, Option<Duration>) =
        (None, None);
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(60) {
        n += 1;
        let res = locker.payment(format!("o{n}").as_bytes(), b"p").unwrap();
        let key = format!("evt{n}");
        let r = locker.execute(&res, Some(200), None, |_| {
            store
                .once(key.as_bytes(), b"", 0, || {
                    Ok::<_, ()>(((), b"done".to_vec()))
                })
                .map(|_| ())
                .map_err(|e| match e {
                    ExecError::Core(e) => e,
                    ExecError::Callback(()) => unreachable!(),
                })
        });
        match r {
            Ok(()) if killed_at.is_none() => ok_before += 1,
            Ok(()) => {
                ok_after += 1;
                if failed > 0 && first_success_after.is_none() {
                    first_success_after = Some(start.elapsed());
                }
                if ok_after >= 50 && first_success_after.is_some() {
                    break;
                }
            }
            Err(ExecError::Core(Error::Backend { .. }))
            | Err(ExecError::Callback(Error::Backend { .. })) => {
                failed += 1;
                first_failure.get_or_insert(start.elapsed());
            }
            Err(ExecError::Core(e)) | Err(ExecError::Callback(e)) => {
                panic!("unclear error during failover: {e}")
            }
        }
        if killed_at.is_none() && ok_before >= 100 {
            primary.signal(libc::SIGKILL);
            primary.stop();
            killed_at = Some(start.elapsed());
        }
    }
    let killed_at = killed_at.expect("the primary was killed");
    let back = first_success_after.expect("the workload resumed after the promotion");
    eprintln!(
        "sentinel failover: {ok_before} ok before the kill; {failed} calls failed with BackendUnavailable; \
         unavailable for {:?} (kill at {:?}, first failure at {:?}, back at {:?}); {ok_after} ok after",
        back - killed_at,
        killed_at,
        first_failure.unwrap_or_default(),
        back
    );
    assert!(failed > 0, "killing the primary must be noticed");
    assert!(ok_after >= 50);
    // The replica is the primary now, and it holds the new records.
    assert!(text(cmd(&replica.url(), &["INFO", "replication"])).contains("role:master"));
}

#[test]
fn replica_acknowledgement_is_required_when_asked_for() {
    let (p0, p1) = (free_port(), free_port());
    let primary = RedisServer::start_on(p0);
    let replica = RedisServer::start_with(p1, &["--replicaof", "127.0.0.1", &p0.to_string()]);
    wait_until("replica in sync", Duration::from_secs(20), || {
        text(cmd(&replica.url(), &["INFO", "replication"])).contains("master_link_status:up")
    });
    let cfg = Config {
        redis_url: primary.url(),
        key_prefix: unique_prefix(),
        min_replicas_ack: 1,
        replica_ack_timeout_ms: 300,
        ..Config::default()
    };
    let a = Locker::new(cfg.clone()).unwrap();
    let res = a.order(b"acked").unwrap();
    a.acquire(&res, Some(0), None).unwrap().release().unwrap();

    // A waiter handed the lock by a release also waits for the replica.
    let holder = other_process(&cfg, 1);
    let lease = holder.acquire(&res, Some(0), None).unwrap();
    let (cfg2, res2) = (cfg.clone(), res.clone());
    let waiter = std::thread::spawn(move || {
        other_process(&cfg2, 2)
            .acquire(&res2, Some(10_000), None)
            .map(|l| l.token())
    });
    std::thread::sleep(Duration::from_millis(100));
    lease.release().unwrap();
    assert!(waiter.join().unwrap().is_ok());

    // With the replica frozen, nobody acknowledges: the acquire fails and the
    // lock is given back.
    replica.signal(libc::SIGSTOP);
    let t = Instant::now();
    let r = a.acquire(&res, Some(0), None);
    let took = t.elapsed();
    replica.signal(libc::SIGCONT);
    match r {
        Err(Error::Backend { detail, .. }) => {
            assert!(detail.contains("replicas acknowledged"), "{detail}")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("acquired without the replica's acknowledgement"),
    }
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(
        !a.is_locked(&res).unwrap(),
        "the unacknowledged lock was released"
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate.
fn make_certs(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=monei-test-ca",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, ext) in [("server", "server.ext"), ("client", "client.ext")] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        );
    }
}

#[test]
fn tls_with_a_ca_and_client_certificates() {
    let dir = tempdir("tls");
    make_certs(&dir);
    let f = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let port = free_port();
    let server = RedisServer::spawn(
        port,
        None,
        &[
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &f("server.crt"),
            "--tls-key-file",
            &f("server.key"),
            "--tls-ca-cert-file",
            &f("ca.crt"),
            "--tls-auth-clients",
            "yes",
        ],
    );
    let base = Config {
        redis_url: format!("rediss://127.0.0.1:{port}"),
        key_prefix: unique_prefix(),
        tls_ca_file: f("ca.crt"),
        tls_cert_file: f("client.crt"),
        tls_key_file: f("client.key"),
        ..Config::default()
    };
    let res_of = |l: &Locker| l.order(b"tls").unwrap();
    let a = Locker::new(base.clone()).unwrap();
    wait_until("TLS server up", Duration::from_secs(10), || {
        a.is_locked(&res_of(&a)).is_ok()
    });
    let lease = a.acquire(&res_of(&a), Some(0), None).unwrap();
    assert!(lease.release().unwrap());

    // Verification is on: without our CA the server is not trusted.
    let no_ca = Locker::new(Config {
        tls_ca_file: String::new(),
        ..base.clone()
    })
    .unwrap();
    assert!(matches!(
        no_ca.is_locked(&res_of(&no_ca)),
        Err(Error::Backend { .. })
    ));
    // The server asks for a client certificate.
    let no_cert = Locker::new(Config {
        tls_cert_file: String::new(),
        tls_key_file: String::new(),
        ..base.clone()
    })
    .unwrap();
    assert!(matches!(
        no_cert.is_locked(&res_of(&no_cert)),
        Err(Error::Backend { .. })
    ));
    // Unreadable files are the caller's mistake, said at once.
    assert!(matches!(
        Locker::new(Config {
            tls_ca_file: "/nonexistent/ca.pem".into(),
            ..base.clone()
        }),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Locker::new(Config {
            tls_key_file: String::new(),
            ..base
        }),
        Err(Error::InvalidArgument(_))
    ));
    drop(server);
}

/// The ACL rule the README documents, for the key prefix `prefix`.
fn acl_rule(prefix: &str) -> Vec<String> {
    let mut rule = vec!["on", ">app-secret", "resetkeys"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    rule.push(format!("~{prefix}*"));
    rule.extend(
        "resetchannels -@all +evalsha +eval +script|load +exists +blpop +hget +del +get +scan +wait \
         +hset +hdel +hmget +hincrby +set +incr +lpop +rpush +lrem +llen +lpos +lrange +pexpire +pttl +time"
            .split(' ')
            .map(String::from),
    );
    rule
}

#[test]
fn acl_user_limited_to_the_prefix_and_commands() {
    let server = RedisServer::start();
    let prefix = unique_prefix();
    let mut setuser = vec!["ACL".to_string(), "SETUSER".into(), "app".into()];
    setuser.extend(acl_rule(&prefix));
    let args: Vec<&str> = setuser.iter().map(String::as_str).collect();
    cmd(&server.url(), &args);
    let cfg = Config {
        redis_url: format!("redis://app:app-secret@127.0.0.1:{}", server.port),
        key_prefix: prefix.clone(),
        ..Config::default()
    };
    let a = Locker::new(cfg.clone()).unwrap();
    let res = a.payment(b"1", b"p").unwrap();
    let lease = a.acquire(&res, Some(0), None).unwrap();
    let b = other_process(&cfg, 1);
    assert!(
        matches!(
            b.acquire(&res, Some(50), None),
            Err(Error::LockTimeout { .. })
        ),
        "waiting works too"
    );
    // A waiter whose holder outlives the lease it saw wakes up, checks its
    // queue entry is still there (LPOS) and waits on; then it is handed the lock.
    let short = a
        .acquire(&a.order(b"2").unwrap(), Some(0), Some(200))
        .unwrap();
    let waiter = {
        let (cfg, order) = (cfg.clone(), a.order(b"2").unwrap());
        std::thread::spawn(move || {
            let b = other_process(&cfg, 2);
            b.acquire(&order, Some(5_000), None).map(|l| l.release())
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(120));
    short.extend(600).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        short.release().unwrap(),
        "still held after the waiter's first wake-up"
    );
    assert!(matches!(waiter.join().unwrap(), Ok(Ok(true))));
    assert_eq!(a.inspect(&res).unwrap().unwrap().token, lease.token());
    assert_eq!(monitor::list(&cfg, None, 10).unwrap().len(), 1);
    lease.extend(10_000).unwrap();
    assert!(lease.release().unwrap());
    assert!(a.force_unlock(&res).is_ok());
    let s = IdempotencyStore::new(cfg.clone(), &[]).unwrap();
    assert!(matches!(
        s.once(b"k", b"", 0, || Ok::<_, ()>(((), b"x".to_vec()))),
        Ok(Once::Ran(_))
    ));
    assert!(matches!(
        s.once(b"k", b"", 0, || Ok::<_, ()>(((), b"y".to_vec()))),
        Ok(Once::Replayed(_))
    ));
    assert!(s.forget(b"k").unwrap());
    let sm = PaymentStateMachine::new(cfg.clone(), &[]).unwrap();
    assert!(sm.advance(b"p", "PENDING").unwrap());
    assert_eq!(sm.current(b"p").unwrap().as_deref(), Some("PENDING"));

    // Outside its prefix the user is refused: a clear backend error.
    let outside = Locker::new(Config {
        key_prefix: "elsewhere:".into(),
        ..cfg
    })
    .unwrap();
    assert!(matches!(
        outside.acquire(&outside.order(b"1").unwrap(), Some(0), None),
        Err(Error::Backend { .. })
    ));
}

/// Threads of this process with the given name (from /proc).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// A sentinel that accepts connections and never answers costs each lookup
/// its timeouts and nothing more: no thread is left behind per attempt
/// (under PHP-FPM such threads would pile up in every worker).
#[test]
fn a_silent_sentinel_leaves_no_thread_behind() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = accepted.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    let cfg = Config {
        redis_url: format!("redis+sentinel://127.0.0.1:{port}/mymaster"),
        key_prefix: unique_prefix(),
        connect_timeout_ms: 50,
        io_timeout_ms: 50,
        ..Config::default()
    };
    let locker = Locker::new(cfg).unwrap();
    let res = locker.order(b"1").unwrap();
    let started = Instant::now();
    for _ in 0..30 {
        match locker.is_locked(&res) {
            Err(Error::Backend { .. }) => {}
            other => panic!("a silent sentinel gave {:?}", other.map(|_| ())),
        }
    }
    let took = started.elapsed();
    assert_eq!(
        threads_named("monei-sentinel"),
        0,
        "lookup threads were left running"
    );
    assert!(
        accepted.lock().unwrap().len() >= 30,
        "every lookup reached the sentinel"
    );
    // Each attempt is bounded by connect + io timeouts (with slack for a loaded machine).
    assert!(took < Duration::from_secs(30), "30 lookups took {took:?}");
}
