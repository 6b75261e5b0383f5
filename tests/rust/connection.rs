//! The plain connection (`wire.rs`): handshake over TCP and Unix sockets, and
//! polling for replies that stays within its budget.

mod support;

use monei_concurrency_core::wire::PlainConn;
use monei_concurrency_core::{pool, Config, Error, Locker};
use std::time::Duration;
use support::*;

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    assert_eq!(0, unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts)
    });
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn unix_socket_with_password_and_database() {
    let dir = std::env::temp_dir().join(format!("monei-conn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("redis.sock");
    let port = free_port();
    let _server = RedisServer::start_with(
        port,
        &[
            "--unixsocket",
            sock.to_str().unwrap(),
            "--unixsocketperm",
            "700",
        ],
    );
    let tcp = format!("redis://127.0.0.1:{port}");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret")
        .query(&mut raw(&tcp))
        .unwrap();

    let prefix = unique_prefix();
    let locker = |url: String| {
        Locker::new(Config {
            redis_url: url,
            key_prefix: prefix.clone(),
            ..Config::default()
        })
        .unwrap()
    };
    let good = locker(format!("unix://{}?db=3&pass=s3cret", sock.display()));
    let res = good.order(b"100000001").unwrap();
    let lease = good.acquire(&res, Some(0), None).unwrap();
    let key = res.lock_key();
    let exists = |db: u8| -> bool {
        redis::cmd("EXISTS")
            .arg(key)
            .query(&mut raw(&format!("redis://:s3cret@127.0.0.1:{port}/{db}")))
            .unwrap()
    };
    assert!(exists(3), "the lock lives in database 3");
    assert!(!exists(0), "and not in database 0");
    assert!(lease.release().unwrap());
    assert!(!exists(3));

    // The same server over TCP with user and password in the URL.
    let tcp_user = locker(format!("redis://default:s3cret@127.0.0.1:{port}/3"));
    assert!(tcp_user.try_acquire(&res, None).unwrap().is_some());

    // A wrong password is a backend error, never a lock.
    let wrong = locker(format!("unix://{}?db=3&pass=wrong", sock.display()));
    match wrong.acquire(&res, Some(0), None) {
        Err(Error::Backend { detail, .. }) => {
            assert!(detail.to_lowercase().contains("pass"), "{detail}")
        }
        Err(e) => panic!("expected a backend error, got {e}"),
        Ok(_) => panic!("a wrong password must not get a lock"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs a Lua script that keeps Redis busy for `ms` through a pooled
/// connection of `cfg`, `n` times; returns the CPU time this thread spent.
fn cpu_for_slow_replies(cfg: &Config, n: u32, ms: u32) -> Duration {
    let ep = pool::endpoint(cfg).unwrap();
    let busy = "local t = redis.call('TIME') \
        local start = t[1] * 1000000 + t[2] \
        repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1]) * 1000 \
        return 1";
    let before = thread_cpu();
    for _ in 0..n {
        let mut conn = ep.conn().unwrap();
        let one: i64 = conn
            .run(|c| redis::cmd("EVAL").arg(busy).arg(0).arg(ms).query(c))
            .unwrap();
        assert_eq!(one, 1);
    }
    thread_cpu() - before
}

#[test]
fn polling_for_slow_replies_stays_within_its_budget_and_backs_off() {
    let server = RedisServer::start();
    let base = server.config();
    // 60 replies that each take 10 ms: polling through all of them would
    // burn 600 ms of CPU, polling 1 ms for each 60 ms; backing off after each
    // miss (polls on replies 1, 3, 6, 11, 20 and 37) it is about 6 ms.
    let polled = cpu_for_slow_replies(
        &Config {
            reply_spin_us: 1_000,
            ..base.clone()
        },
        60,
        10,
    );
    assert!(
        polled < Duration::from_millis(30),
        "polling used {polled:?} of CPU for 60 slow replies"
    );
    let not_polled = cpu_for_slow_replies(
        &Config {
            reply_spin_us: 0,
            ..base
        },
        60,
        10,
    );
    assert!(
        not_polled < Duration::from_millis(30),
        "without polling {not_polled:?} of CPU"
    );
}

/// Connection details of the shared test server.
fn shared_info() -> redis::ConnectionInfo {
    redis::Client::open(redis_url())
        .unwrap()
        .get_connection_info()
        .clone()
}

#[test]
fn which_replies_are_polled_for() {
    let info = shared_info();
    let io = Duration::from_secs(2);
    let ping = |c: &mut PlainConn| {
        let pong: String = redis::cmd("PING").query(c).unwrap();
        assert_eq!(pong, "PONG");
    };
    let mut c = PlainConn::connect(&info, Duration::from_secs(1), io, 100).unwrap();
    ping(&mut c);
    assert_eq!(c.polls(), 1, "a plain command is polled for");
    // Later ones are polled for too; how often depends on whether earlier
    // polls caught their reply (a miss skips 1, 2, 4 … replies).
    for _ in 0..10 {
        ping(&mut c);
    }
    assert!(c.polls() > 1, "only the first reply was polled for");
    let polls = c.polls();
    c.set_read_timeout(Some(io * 3)).unwrap();
    let popped: Option<(String, String)> = redis::cmd("BLPOP")
        .arg(format!("{}nothing", unique_prefix()))
        .arg("0.01")
        .query(&mut c)
        .unwrap();
    assert!(popped.is_none());
    assert_eq!(
        c.polls(),
        polls,
        "a blocking command's reply is not polled for"
    );

    let mut off = PlainConn::connect(&info, Duration::from_secs(1), io, 0).unwrap();
    ping(&mut off);
    assert_eq!(off.polls(), 0, "reply_spin_us = 0 never polls");
}

#[test]
fn a_read_timeout_takes_effect_with_the_next_request() {
    let info = shared_info();
    let io = Duration::from_millis(200);
    let mut c = PlainConn::connect(&info, Duration::from_secs(1), io, 100).unwrap();
    let empty = format!("{}empty", unique_prefix());
    // Longer than the I/O timeout: a 0.5 s BLPOP must be allowed to finish.
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let t = std::time::Instant::now();
    let popped: Option<(String, String)> = redis::cmd("BLPOP")
        .arg(&empty)
        .arg("0.5")
        .query(&mut c)
        .unwrap();
    assert!(popped.is_none());
    assert!(
        t.elapsed() >= Duration::from_millis(450),
        "{:?}",
        t.elapsed()
    );
    // Back to the I/O timeout: a reply that takes 1 s must fail after ~200 ms.
    c.set_read_timeout(Some(io)).unwrap();
    let t = std::time::Instant::now();
    let err = redis::cmd("BLPOP")
        .arg(&empty)
        .arg("1")
        .query::<Option<(String, String)>>(&mut c)
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
}

/// Opens non-blocking connections to `path` until the listen backlog is full
/// (EAGAIN); returns them, to be closed by the caller.
fn fill_backlog(path: &std::path::Path) -> Vec<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    let mut held = Vec::new();
    for _ in 0..3000 {
        // SAFETY: plain socket/connect calls on a sockaddr_un we fill in.
        unsafe {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_un = std::mem::zeroed();
            addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
            for (d, s) in addr.sun_path.iter_mut().zip(path.as_os_str().as_bytes()) {
                *d = *s as libc::c_char;
            }
            let rc = libc::connect(
                fd,
                (&addr as *const libc::sockaddr_un).cast(),
                std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
            );
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                assert_eq!(e.raw_os_error(), Some(libc::EAGAIN), "{e}");
                return held;
            }
            held.push(owned);
        }
    }
    panic!("the listen backlog never filled up");
}

#[test]
fn unix_connect_to_a_frozen_server_with_a_full_backlog_fails_in_time() {
    let dir = std::env::temp_dir().join(format!("monei-backlog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("redis.sock");
    let server = RedisServer::start_with(
        free_port(),
        &[
            "--unixsocket",
            sock.to_str().unwrap(),
            "--tcp-backlog",
            "64",
        ],
    );
    let locker = Locker::new(Config {
        redis_url: format!("unix://{}", sock.display()),
        key_prefix: unique_prefix(),
        connect_timeout_ms: 300,
        io_timeout_ms: 300,
        ..Config::default()
    })
    .unwrap();
    let locker = std::sync::Arc::new(locker);
    let res = locker.order(b"100000002").unwrap();
    server.signal(libc::SIGSTOP);
    let fillers = fill_backlog(&sock);
    let (tx, rx) = std::sync::mpsc::channel();
    let (l, r) = (locker.clone(), res.clone());
    std::thread::spawn(move || {
        let t = std::time::Instant::now();
        let failed_closed = matches!(l.try_acquire(&r, None), Err(Error::Backend { .. }));
        let _ = tx.send((failed_closed, t.elapsed()));
    });
    let outcome = rx.recv_timeout(Duration::from_secs(5));
    server.signal(libc::SIGCONT);
    drop(fillers);
    let (failed_closed, took) = outcome.expect("connect() blocked on the full backlog");
    assert!(failed_closed, "a frozen server must fail closed");
    assert!(took < Duration::from_secs(3), "connect took {took:?}");
    // Back to normal once the server runs again.
    assert!(locker.try_acquire(&res, None).unwrap().is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Puts `with` in place of the connection's socket: what the connection
/// writes goes there, what it reads comes from there.
fn swap_socket(c: &PlainConn, with: &impl std::os::fd::AsRawFd) {
    use std::os::fd::AsRawFd;
    // SAFETY: both descriptors are open; dup2 closes the socket the
    // connection owned and gives its number to a copy of `with`.
    assert!(unsafe { libc::dup2(with.as_raw_fd(), c.as_raw_fd()) } >= 0);
}

#[test]
fn a_reply_that_cannot_be_parsed_closes_the_connection() {
    let info = shared_info();
    let mut c =
        PlainConn::connect(&info, Duration::from_secs(1), Duration::from_secs(1), 0).unwrap();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    swap_socket(&c, &ours);
    // Not RESP: whatever follows it in the stream cannot be trusted.
    std::io::Write::write_all(&mut theirs, b"?garbage\r\n+PONG\r\n").unwrap();
    let err = redis::cmd("PING").query::<String>(&mut c).unwrap_err();
    assert!(!err.is_io_error(), "{err:?}");
    assert!(
        !redis::ConnectionLike::is_open(&c),
        "a connection whose stream is out of step stays in use"
    );
}
