//! One error type for the whole core; the binding maps each variant to a PHP exception class.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Caller passed something the API cannot accept (PHP `InvalidArgumentException`).
    #[error("{0}")]
    InvalidArgument(String),

    /// A duration argument of a call out of its range. The message names the
    /// argument neutrally; the binding names it as its language does.
    #[error("{arg} must be between {min} and {max} ms, got {got}")]
    OutOfRange {
        arg: Arg,
        min: u64,
        max: u64,
        got: i64,
    },

    /// The wait for a lock ran out; the protected work never ran.
    #[error("timed out after {waited_ms} ms waiting for lock {resource}")]
    LockTimeout { resource: String, waited_ms: u64 },

    /// The lease ended (expired, forced free) while the holder believed it held it.
    #[error("lock {resource} was lost: {reason}")]
    LockLost { resource: String, reason: String },

    /// Another caller is still running the callback for this idempotency key.
    #[error("idempotency key {key} is still being processed elsewhere")]
    IdempotencyInProgress { key: String },

    /// The idempotency key was used before with a different fingerprint.
    #[error("idempotency key {key} was used with a different fingerprint")]
    IdempotencyMismatch { key: String },

    /// The callback ran, but its claim on the key ended meanwhile (it outlived
    /// `in_progress_ttl_ms`, or the key was forgotten) and another caller may
    /// have run it too; this caller's result was not stored.
    #[error("idempotency key {key} was claimed by another caller while the callback ran; its result was not stored")]
    IdempotencyClaimLost { key: String },

    /// The callback ran, but whether its result was stored is unknown (Redis
    /// failed while recording it): unlike [`Error::Backend`], work was done.
    #[error(
        "the callback of idempotency key {key} ran, but its result could not be recorded: {detail}"
    )]
    IdempotencyResultUnknown { key: String, detail: String },

    /// Redis is unreachable, too slow, refuses auth or answered something unusable.
    /// The message never contains a password: it is built from the masked URL.
    #[error("redis backend unavailable ({endpoint}): {detail}")]
    Backend { endpoint: String, detail: String },
}

pub type Result<T> = std::result::Result<T, Error>;

/// The duration arguments of the API's calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// How long to wait for a lock or a claim.
    Wait,
    /// How long a lease lasts.
    Ttl,
}

impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arg::Wait => "wait",
            Arg::Ttl => "ttl",
        })
    }
}

/// Failure of a call that runs a caller's callback ([`crate::Locker::execute`],
/// [`crate::IdempotencyStore::once`]).
pub enum ExecError<E> {
    /// The callback failed; the lock or claim was given back first.
    Callback(E),
    /// The extension's own part failed (lock, claim, Redis, arguments).
    Core(Error),
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    pub(crate) fn backend(endpoint: &str, err: &redis::RedisError) -> Self {
        Error::Backend {
            endpoint: endpoint.to_string(),
            detail: describe_redis_error(err),
        }
    }

    pub(crate) fn timeout(resource: &str, waited: Duration) -> Self {
        Error::LockTimeout {
            resource: resource.to_string(),
            waited_ms: waited.as_millis() as u64,
        }
    }
}

/// redis-rs errors may echo parts of the URL or command; keep only the kind and
/// the server's own message, which never carries our credentials.
fn describe_redis_error(err: &redis::RedisError) -> String {
    if err.is_timeout() {
        return "i/o timeout".to_string();
    }
    if err.is_connection_refusal() {
        return "connection refused".to_string();
    }
    if err.is_connection_dropped() {
        return "connection dropped".to_string();
    }
    match (err.code(), err.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => format!("{:?}", err.kind()),
    }
}
