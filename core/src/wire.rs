//! A plain (TCP or Unix socket) connection to one Redis server that polls
//! for each reply before sleeping (see [`crate::spin`]).
//!
//! redis-rs' own `Connection` gives no access to its socket (see
//! `bench/README.md`, "What polling needs from redis-rs"), so this one owns
//! the socket (connect, timeouts, polling) and no more: commands arrive
//! packed by redis-rs, replies are read by redis-rs' own `Parser`, errors are
//! redis-rs' errors (a read timeout is `is_timeout()`, a closed socket
//! `is_connection_dropped()`). TLS and Cluster connections, and those that
//! ask the sentinels, are redis-rs' own.

use crate::spin::{self, SpinPolicy};
use redis::{
    ConnectionAddr, ConnectionInfo, ConnectionLike, Parser, RedisConnectionInfo, RedisError,
    RedisResult, Value,
};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(d),
            Stream::Unix(s) => s.set_read_timeout(d),
        }
    }

    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(d),
            Stream::Unix(s) => s.set_write_timeout(d),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct PlainConn {
    stream: Stream,
    parser: Parser,
    db: i64,
    open: bool,
    spin: SpinPolicy,
    io_timeout: Duration,
    /// A blocking command (BLPOP, WAIT) runs with a longer read timeout: its
    /// reply is not expected soon, so it is not polled for.
    long_read: bool,
    /// How many replies were polled for (tests check which ones are).
    polls: u64,
    /// The read timeout asked for, and the one the socket has: it is set
    /// lazily, after the next request is sent, so that restoring it after a
    /// blocking command costs no system call on the way back to the caller.
    read_timeout: Option<Duration>,
    socket_read_timeout: Option<Duration>,
}

/// Whether `info` is a server this module can reach (no TLS).
pub fn supports(info: &ConnectionInfo) -> bool {
    matches!(
        info.addr(),
        ConnectionAddr::Tcp(..) | ConnectionAddr::Unix(..)
    )
}

fn timed_out(what: &str) -> RedisError {
    RedisError::from(io::Error::new(io::ErrorKind::TimedOut, what.to_string()))
}

/// Connects to a Unix socket within `timeout`. A blocking connect() would
/// wait for as long as the server's listen backlog stays full (a frozen Redis
/// with hundreds of clients knocking), so the socket is non-blocking and a
/// full backlog (EAGAIN) is retried every millisecond until the timeout.
fn connect_unix(path: &Path, timeout: Duration) -> io::Result<UnixStream> {
    let deadline = Instant::now() + timeout;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: an all-zero sockaddr_un is a valid value to fill in.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "socket path too long",
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: plain socket(2); the descriptor is owned by `sock` at once.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    loop {
        // SAFETY: addr is a filled sockaddr_un of the size passed.
        let rc = unsafe {
            libc::connect(
                sock.as_raw_fd(),
                (&addr as *const libc::sockaddr_un).cast(),
                std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Some(libc::EAGAIN) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the server's listen backlog stayed full until the connect timeout",
                ))
            }
            _ => return Err(err),
        }
    }
    let stream = UnixStream::from(sock);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// Connects to the first address of `host` that accepts before `deadline`.
fn connect_tcp(host: &str, port: u16, deadline: Instant) -> RedisResult<TcpStream> {
    let mut last: Option<io::Error> = None;
    for addr in (host, port).to_socket_addrs()? {
        let Some(budget) = left(deadline) else { break };
        match TcpStream::connect_timeout(&addr, budget) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => e.into(),
        None => timed_out("no address to connect to in time"),
    })
}

/// What is left until `deadline`; None once it has passed.
fn left(deadline: Instant) -> Option<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    (!d.is_zero()).then_some(d)
}

impl PlainConn {
    /// Connects, authenticates and selects the database, all within `connect`;
    /// then sets `io` as the read and write timeout.
    pub fn connect(
        info: &ConnectionInfo,
        connect: Duration,
        io: Duration,
        spin_us: u64,
    ) -> RedisResult<PlainConn> {
        let deadline = Instant::now() + connect;
        let stream = match info.addr() {
            ConnectionAddr::Tcp(host, port) => Stream::Tcp(connect_tcp(host, *port, deadline)?),
            ConnectionAddr::Unix(path) => {
                let budget = left(deadline).ok_or_else(|| timed_out("connect timeout"))?;
                Stream::Unix(connect_unix(path, budget)?)
            }
            _ => return Err(timed_out("TLS is not handled by the plain connection")),
        };
        let settings = info.redis_settings();
        let mut conn = PlainConn {
            stream,
            parser: Parser::new(),
            db: settings.db(),
            open: true,
            spin: SpinPolicy::new(spin_us),
            io_timeout: io,
            long_read: false,
            polls: 0,
            read_timeout: None,
            socket_read_timeout: None,
        };
        conn.authenticate(settings, deadline)?;
        conn.set_read_timeout(Some(io))?;
        conn.stream.set_write_timeout(Some(io))?;
        Ok(conn)
    }

    /// AUTH and SELECT, as the settings ask, before `deadline`.
    fn authenticate(
        &mut self,
        settings: &RedisConnectionInfo,
        deadline: Instant,
    ) -> RedisResult<()> {
        if let Some(password) = settings.password() {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = settings.username() {
                auth.arg(user);
            }
            auth.arg(password);
            self.handshake(&auth, left(deadline))?;
        }
        if self.db != 0 {
            self.handshake(redis::cmd("SELECT").arg(self.db), left(deadline))?;
        }
        Ok(())
    }

    /// One step of the handshake, within what is left of the connect timeout.
    fn handshake(&mut self, cmd: &redis::Cmd, left: Option<Duration>) -> RedisResult<()> {
        let left = left.ok_or_else(|| timed_out("connect timeout during the handshake"))?;
        self.read_timeout = Some(left);
        self.stream.set_write_timeout(Some(left))?;
        self.long_read = true;
        let reply = self.req_packed_command(&cmd.get_packed_command());
        self.long_read = false;
        reply?.extract_error().map(drop)
    }

    /// Read timeout for the next replies; longer than the I/O timeout means a
    /// blocking command, whose reply is not polled for.
    pub fn set_read_timeout(&mut self, d: Option<Duration>) -> RedisResult<()> {
        self.long_read = d.is_none_or(|d| d > self.io_timeout);
        self.read_timeout = d;
        Ok(())
    }

    pub fn set_write_timeout(&self, d: Option<Duration>) -> RedisResult<()> {
        Ok(self.stream.set_write_timeout(d)?)
    }

    /// Sends a request, then gives the socket the read timeout asked for
    /// (while Redis is already working on the request). A failure in either
    /// step closes the connection: a request may be on its way, and its reply
    /// must not reach the next caller.
    fn send(&mut self, bytes: &[u8]) -> RedisResult<()> {
        let sent = self.stream.write_all(bytes).and_then(|()| {
            if self.socket_read_timeout != self.read_timeout {
                self.stream.set_read_timeout(self.read_timeout)?;
                self.socket_read_timeout = self.read_timeout;
            }
            Ok(())
        });
        sent.map_err(|e| {
            self.open = false;
            RedisError::from(e)
        })
    }

    /// How many replies this connection polled for.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Waits for the start of a reply: polls first when the policy says so.
    fn await_reply(&mut self) {
        if self.long_read {
            return;
        }
        let budget = self.spin.budget();
        if !budget.is_zero() {
            self.polls += 1;
            let caught = spin::poll_readable(self.stream.fd(), budget);
            self.spin.record(caught);
        }
    }

    /// Any error here leaves the stream at an unknown place (an error reply
    /// from Redis is a value, not an error), so the connection is closed.
    fn read_value(&mut self) -> RedisResult<Value> {
        self.parser
            .parse_value(&mut self.stream)
            .inspect_err(|_| self.open = false)
    }
}

impl AsRawFd for PlainConn {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.fd()
    }
}

impl ConnectionLike for PlainConn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        self.send(cmd)?;
        self.await_reply();
        self.read_value()
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        self.send(cmd)?;
        self.await_reply();
        let mut replies = Vec::with_capacity(count);
        for i in 0..offset + count {
            let v = self.read_value()?;
            if i >= offset {
                replies.push(v);
            } else if let Value::ServerError(e) = v {
                // A MULTI that failed: the transaction did not run.
                return Err(e.into());
            }
        }
        Ok(replies)
    }

    fn get_db(&self) -> i64 {
        self.db
    }

    fn check_connection(&mut self) -> bool {
        redis::cmd("PING").query::<String>(self).is_ok()
    }

    fn is_open(&self) -> bool {
        self.open
    }
}
