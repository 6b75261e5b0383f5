//! Connection and lock settings: defaults, per-instance overrides and validation.
//!
//! The binding reads configuration text (e.g. a configuration file) and
//! typed per-object options and hands them over as [`Value`]s; every rule
//! about names, types and ranges lives here.

use crate::error::{Arg, Error, Result};
use crate::settings::{self, Kind, MAX_MS, SETTINGS};
use crate::url::mask_url;
use once_cell::sync::Lazy;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub redis_url: String,
    pub key_prefix: String,
    pub lock_ttl_ms: u64,
    pub lock_wait_ms: u64,
    pub max_hold_ms: u64,
    pub connect_timeout_ms: u64,
    pub io_timeout_ms: u64,
    /// Holds longer than this are logged as slow.
    pub slow_hold_ms: u64,
    /// PEM files for TLS: CA to verify the server with, client certificate and key.
    pub tls_ca_file: String,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    /// Replicas that must acknowledge a new lock (WAIT) before it counts as taken.
    pub min_replicas_ack: u64,
    pub replica_ack_timeout_ms: u64,
    /// How long a connection polls for a reply before sleeping (0: never).
    pub reply_spin_us: u64,
}

impl Default for Config {
    /// Every setting at its declared default ([`crate::settings::SETTINGS`]).
    fn default() -> Self {
        static DEFAULT: Lazy<Config> = Lazy::new(|| {
            let mut cfg = Config {
                redis_url: String::new(),
                key_prefix: String::new(),
                lock_ttl_ms: 0,
                lock_wait_ms: 0,
                max_hold_ms: 0,
                connect_timeout_ms: 0,
                io_timeout_ms: 0,
                slow_hold_ms: 0,
                tls_ca_file: String::new(),
                tls_cert_file: String::new(),
                tls_key_file: String::new(),
                min_replicas_ack: 0,
                replica_ack_timeout_ms: 0,
                reply_spin_us: 0,
            };
            for s in &SETTINGS {
                cfg.set(s.name, Value::Str(s.default.into()), true)
                    .expect("the declared defaults are valid");
            }
            cfg
        });
        DEFAULT.clone()
    }
}

/// A setting as it arrives: configuration text is a string, options are typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
    /// A list or map, keys as strings (list keys are "0", "1", …), in order.
    Array(Vec<(String, Value)>),
    /// Any other type; carries the type name for the error message.
    Other(&'static str),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Other(t) => t,
        }
    }
}

impl Config {
    /// Applies one setting, checked as [`crate::settings::SETTINGS`]
    /// declares it. `from_text` relaxes typing: configuration text is always
    /// a string, so digits are accepted there but not in typed options.
    pub fn set(&mut self, name: &str, value: Value, from_text: bool) -> Result<()> {
        let Some(setting) = settings::find(name) else {
            return Err(Error::invalid(format!(
                "unknown option \"{}\"; known options: {}",
                printable(name),
                settings::names().collect::<Vec<_>>().join(", ")
            )));
        };
        let (text, number) = match setting.kind {
            Kind::Url => {
                let url = string_setting(name, value)?;
                validate_url(&url)?;
                (url, 0)
            }
            Kind::Prefix => {
                let prefix = string_setting(name, value)?;
                validate_prefix(&prefix)?;
                (prefix, 0)
            }
            Kind::Path => (string_setting(name, value)?, 0),
            Kind::Millis { min } => (String::new(), ms_setting(name, value, from_text, min)?),
            Kind::Count { max } => {
                let n = int_setting(name, value, from_text)?;
                if !(0..=max as i64).contains(&n) {
                    return Err(Error::invalid(format!(
                        "{name} must be between 0 and {max}, got {n}"
                    )));
                }
                (String::new(), n as u64)
            }
        };
        match name {
            "redis_url" => self.redis_url = text,
            "key_prefix" => self.key_prefix = text,
            "lock_ttl_ms" => self.lock_ttl_ms = number,
            "lock_wait_ms" => self.lock_wait_ms = number,
            "max_hold_ms" => self.max_hold_ms = number,
            "connect_timeout_ms" => self.connect_timeout_ms = number,
            "io_timeout_ms" => self.io_timeout_ms = number,
            "slow_hold_ms" => self.slow_hold_ms = number,
            "tls_ca_file" => self.tls_ca_file = text,
            "tls_cert_file" => self.tls_cert_file = text,
            "tls_key_file" => self.tls_key_file = text,
            "min_replicas_ack" => self.min_replicas_ack = number,
            "replica_ack_timeout_ms" => self.replica_ack_timeout_ms = number,
            "reply_spin_us" => self.reply_spin_us = number,
            _ => unreachable!("every declared setting has a field"),
        }
        Ok(())
    }

    /// Applies an `$options` array. Names in `extras` are not connection or
    /// lock settings but belong to the calling class; they are handed back
    /// for it to check. Anything else unknown is an error.
    pub fn apply(
        &mut self,
        options: &[(String, Value)],
        extras: &[&str],
    ) -> Result<Vec<(String, Value)>> {
        let mut rest = Vec::new();
        for (name, value) in options {
            if extras.contains(&name.as_str()) {
                rest.push((name.clone(), value.clone()));
            } else if settings::find(name).is_some() {
                self.set(name, value.clone(), false)?;
            } else {
                let mut known: Vec<&str> = settings::names().collect();
                known.extend_from_slice(extras);
                return Err(Error::invalid(format!(
                    "unknown option \"{}\"; known options: {}",
                    printable(name),
                    known.join(", ")
                )));
            }
        }
        Ok(rest)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub fn io_timeout(&self) -> Duration {
        Duration::from_millis(self.io_timeout_ms)
    }

    /// The Redis URL with any password replaced, for messages.
    pub fn masked_url(&self) -> String {
        mask_url(&self.redis_url)
    }
}

fn string_setting(name: &str, value: Value) -> Result<String> {
    match value {
        Value::Str(s) => Ok(s),
        other => Err(type_error(name, "string", other.type_name())),
    }
}

/// A duration in milliseconds, `min`..=[`MAX_MS`].
pub fn ms_setting(name: &str, value: Value, from_text: bool, min: u64) -> Result<u64> {
    check_ms(name, int_setting(name, value, from_text)?, min)
}

/// An integer setting; in configuration text, digits count as integers.
fn int_setting(name: &str, value: Value, from_text: bool) -> Result<i64> {
    Ok(match value {
        Value::Int(n) => n,
        Value::Str(s) if from_text => s.trim().parse::<i64>().map_err(|_| {
            Error::invalid(format!(
                "{name} must be an integer, got \"{}\"",
                printable(&s)
            ))
        })?,
        other => return Err(type_error(name, "int", other.type_name())),
    })
}

/// Validates a duration argument of a call: `min` ..= [`MAX_MS`].
pub fn check_arg(arg: Arg, n: i64, min: u64) -> Result<u64> {
    if n < min as i64 || n as u64 > MAX_MS {
        return Err(Error::OutOfRange {
            arg,
            min,
            max: MAX_MS,
            got: n,
        });
    }
    Ok(n as u64)
}

/// Validates a millisecond count of a setting.
pub fn check_ms(name: &str, n: i64, min: u64) -> Result<u64> {
    if n < min as i64 || n as u64 > MAX_MS {
        return Err(Error::invalid(format!(
            "{name} must be between {min} and {MAX_MS} ms, got {n}"
        )));
    }
    Ok(n as u64)
}

pub fn type_error(name: &str, want: &str, got: &str) -> Error {
    Error::invalid(format!(
        "option \"{name}\" must be of type {want}, {got} given"
    ))
}

fn validate_url(url: &str) -> Result<()> {
    crate::url::parse(url).map(|_| ())
}

fn validate_prefix(prefix: &str) -> Result<()> {
    if prefix.len() > 64 || prefix.bytes().any(|b| b == 0 || b == b'{' || b == b'}') {
        return Err(Error::invalid(
            "key_prefix must be at most 64 bytes and contain no NUL, '{' or '}'",
        ));
    }
    Ok(())
}

/// Makes user input safe to echo in a message (no control bytes, bounded length).
pub fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords() {
        assert_eq!(mask_url("redis://:s3cret@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(mask_url("redis://app:s3cret@h:1"), "redis://app:***@h:1");
        assert_eq!(mask_url("redis://app@h:1"), "redis://app@h:1");
        assert_eq!(mask_url("redis://app:Ab/Cd@h:1/0"), "redis://app:***@h:1/0");
        assert_eq!(mask_url("redis://:a/b@c@h:1"), "redis://:***@h:1");
        assert_eq!(mask_url("redis://h:1/0?x=a@b"), "redis://h:1/0?x=a@b");
        assert_eq!(mask_url("redis://h:6379/2"), "redis://h:6379/2");
        assert_eq!(
            mask_url("unix:///run/redis.sock?db=1&pass=s3cret"),
            "unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(
            mask_url("redis+sentinel://:a@s:1,t:2/m?sentinel_password=b"),
            "redis+sentinel://:***@s:1,t:2/m?sentinel_password=***"
        );
    }

    #[test]
    fn rejects_unknown_and_mistyped_options() {
        let mut c = Config::default();
        assert!(c.set("nope", Value::Int(1), false).is_err());
        assert!(c.set("lock_ttl_ms", Value::Str("5".into()), false).is_err());
        assert!(c.set("lock_ttl_ms", Value::Str("5".into()), true).is_ok());
        assert!(c.set("lock_ttl_ms", Value::Int(0), false).is_err());
        assert!(c
            .set("lock_ttl_ms", Value::Int(MAX_MS as i64 + 1), false)
            .is_err());
        assert!(c.set("lock_wait_ms", Value::Int(0), false).is_ok());
        assert!(c.set("lock_wait_ms", Value::Int(-1), false).is_err());
        assert!(c
            .set("redis_url", Value::Str("http://x".into()), false)
            .is_err());
        assert!(c.set("redis_url", Value::Other("array"), false).is_err());
        assert!(c
            .set("key_prefix", Value::Str("a{b".into()), false)
            .is_err());
        assert_eq!(c.lock_ttl_ms, 5);
    }
}
