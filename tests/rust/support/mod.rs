//! Test tooling: a real, throwaway redis-server on a free loopback port.
#![allow(dead_code)]

use monei_concurrency_core::{Config, Locker};
use once_cell::sync::Lazy;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A redis-server owned by a test; killed on drop.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    pidfile: std::path::PathBuf,
    /// Its working directory (a replica's sync file lands there), removed on stop.
    dir: std::path::PathBuf,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        Self::start_with(port, &[])
    }

    /// A server with extra `--option value` arguments (cluster, TLS, replica…),
    /// waited for unless it speaks TLS only.
    pub fn start_with(port: u16, extra: &[&str]) -> Self {
        let server = Self::spawn(port, None, extra);
        if !extra.contains(&"--tls-port") {
            server.wait_ready();
        }
        server
    }

    /// Starts `redis-server [conf] --port P … extra` without waiting for it.
    pub fn spawn(port: u16, conf: Option<&str>, extra: &[&str]) -> Self {
        let pidfile =
            std::env::temp_dir().join(format!("monei-redis-{}-{port}.pid", std::process::id()));
        let dir = std::env::temp_dir().join(format!("monei-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir_arg = if extra.contains(&"--dir") {
            String::new()
        } else {
            format!("--dir {}", shell_quote(&dir.to_string_lossy()))
        };
        let args: Vec<String> = extra.iter().map(|a| shell_quote(a)).collect();
        let port_arg = if extra.contains(&"--port") {
            String::new()
        } else {
            format!("--port {port}")
        };
        // The watcher shell kills redis-server if this test process dies
        // without running destructors (a panic abort, SIGKILL).
        let script = format!(
            "redis-server {conf} {port_arg} {dir_arg} --bind 127.0.0.1 --save '' --appendonly no \
             --protected-mode yes --loglevel warning {rest} & r=$!; echo $r > {pidfile}; \
             trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM; \
             while kill -0 {parent} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.2; done; \
             kill $r 2>/dev/null; wait $r",
            conf = conf.map(shell_quote).unwrap_or_default(),
            rest = args.join(" "),
            pidfile = shell_quote(&pidfile.to_string_lossy()),
            parent = std::process::id()
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (make test installs it)");
        RedisServer {
            port,
            child: Some(child),
            pidfile,
            dir,
        }
    }

    /// Sends a signal (libc::SIGSTOP, SIGCONT, SIGKILL…) to the server itself.
    pub fn signal(&self, sig: i32) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(pid) = std::fs::read_to_string(&self.pidfile)
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
            {
                unsafe { libc::kill(pid, sig) };
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A config for this server, with a key prefix of its own.
    pub fn config(&self) -> Config {
        Config {
            redis_url: self.url(),
            ..config(&unique_prefix())
        }
    }

    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(c) = redis::Client::open(self.url()) {
                if let Ok(mut con) = c.get_connection_with_timeout(Duration::from_millis(200)) {
                    if redis::cmd("PING").query::<String>(&mut con).is_ok() {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // The watcher shell stops redis-server on TERM and waits for it.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
            let _ = std::fs::remove_file(&self.pidfile);
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The Redis shared by the tests of one binary: `REDIS_URL` when set, else one we start.
static SHARED: Lazy<(String, Option<RedisServer>)> =
    Lazy::new(|| match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let s = RedisServer::start();
            (s.url(), Some(s))
        }
    });

pub fn redis_url() -> String {
    SHARED.0.clone()
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!(
        "t{}-{}:",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn config(prefix: &str) -> Config {
    Config {
        redis_url: redis_url(),
        key_prefix: prefix.to_string(),
        ..Config::default()
    }
}

/// A locker that behaves like another process: same server and settings,
/// its own re-entrancy scope, so this process' re-entrancy does not join the two.
pub fn other_process(cfg: &Config, n: u32) -> Locker {
    Locker::new_in_scope(cfg.clone(), &format!("process {n}")).unwrap()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}
