//! Who holds a lock: host, process and the request or script it serves,
//! recorded in Redis beside the lock for `inspect()`, `locks()` and the CLI.

use crate::process::lock;
use once_cell::sync::Lazy;
use std::sync::Mutex;

static HOST: Lazy<String> = Lazy::new(|| {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".into()
    }
});

/// What this process is doing now: the request URI, or the CLI script.
static REQUEST: Mutex<String> = Mutex::new(String::new());

/// Longest request label stored.
const MAX_LABEL: usize = 200;

/// Sets the label recorded with the locks taken from now on (the binding
/// calls it at the start of every request).
pub fn set_request(label: &str) {
    let mut clean: String = label
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_LABEL)
        .collect();
    clean.shrink_to_fit();
    *lock(&REQUEST) = clean;
}

/// This process, encoded for the lock record: `host\tpid\trequest`.
pub fn current() -> String {
    format!("{}\t{}\t{}", *HOST, std::process::id(), lock(&REQUEST))
}

/// A decoded holder record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: i64,
    pub request: String,
}

pub fn parse(s: &str) -> Holder {
    let mut parts = s.splitn(3, '\t');
    Holder {
        host: parts.next().unwrap_or("").to_string(),
        pid: parts.next().and_then(|p| p.parse().ok()).unwrap_or(0),
        request: parts.next().unwrap_or("").to_string(),
    }
}
