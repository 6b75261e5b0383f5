//! Every connection and lock setting, declared once: name, default, the
//! values it accepts and a line of documentation. [`crate::Config`] takes
//! its defaults and its checks from here; the binding derives its
//! configuration entries and info rows from this list, and a test checks the
//! README's settings table against it.

/// Longest lease or wait accepted anywhere: one day.
pub const MAX_MS: u64 = 86_400_000;

/// Longest a connection may poll for one reply: past a millisecond sleeping costs less.
pub const MAX_SPIN_US: u64 = 1_000;

/// What a setting accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Redis URL (checked by [`crate::url::parse`]).
    Url,
    /// The key prefix (at most 64 bytes, no NUL, `{` or `}`).
    Prefix,
    /// A file path, or empty.
    Path,
    /// Milliseconds, `min` ..= [`MAX_MS`].
    Millis { min: u64 },
    /// A whole number, 0 ..= `max`.
    Count { max: u64 },
}

#[derive(Debug)]
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

impl Setting {
    /// A [`Kind::Count`] setting's value from configuration text.
    pub fn count_from_text(&self, text: &str) -> Result<u64, String> {
        let Kind::Count { max } = self.kind else {
            return Err(format!("{} is not a count", self.name));
        };
        match text.trim().parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(format!(
                "{} must be a whole number between 0 and {max}, got \"{}\"",
                self.name,
                text.escape_default()
            )),
        }
    }

    /// The accepted values, in words (for documentation).
    pub fn range(&self) -> String {
        match self.kind {
            Kind::Url => "a redis, rediss, unix, redis+cluster or redis+sentinel URL".into(),
            Kind::Prefix => "at most 64 bytes, no NUL, '{' or '}'".into(),
            Kind::Path => "a PEM file path, or empty".into(),
            Kind::Millis { min } => format!("{min} ... {MAX_MS}"),
            Kind::Count { max } => format!("0 ... {max}"),
        }
    }
}

/// In the order the binding registers and shows them.
pub const SETTINGS: [Setting; 14] = [
    Setting {
        name: "redis_url",
        default: "redis://127.0.0.1:6379",
        kind: Kind::Url,
        doc: "Redis server (redis://, rediss://, unix://, redis+cluster://, redis+sentinel://); passwords are masked wherever it is shown.",
    },
    Setting {
        name: "key_prefix",
        default: "monei:",
        kind: Kind::Prefix,
        doc: "Prefix of every Redis key.",
    },
    Setting {
        name: "lock_ttl_ms",
        default: "30000",
        kind: Kind::Millis { min: 1 },
        doc: "Lease time when a call gives none; such leases are renewed by the watchdog.",
    },
    Setting {
        name: "lock_wait_ms",
        default: "10000",
        kind: Kind::Millis { min: 0 },
        doc: "How long to wait for a lock when a call gives no wait (0: do not wait).",
    },
    Setting {
        name: "max_hold_ms",
        default: "600000",
        kind: Kind::Millis { min: 1 },
        doc: "The watchdog stops renewing a lease this long after it was taken.",
    },
    Setting {
        name: "connect_timeout_ms",
        default: "1000",
        kind: Kind::Millis { min: 1 },
        doc: "TCP/unix connect timeout.",
    },
    Setting {
        name: "io_timeout_ms",
        default: "2000",
        kind: Kind::Millis { min: 1 },
        doc: "Read/write timeout of one Redis command.",
    },
    Setting {
        name: "slow_hold_ms",
        default: "5000",
        kind: Kind::Millis { min: 1 },
        doc: "Holds longer than this are reported to the logger as slow.",
    },
    Setting {
        name: "tls_ca_file",
        default: "",
        kind: Kind::Path,
        doc: "PEM file of the CA that signed the server certificate (empty: the system trust store).",
    },
    Setting {
        name: "tls_cert_file",
        default: "",
        kind: Kind::Path,
        doc: "PEM client certificate, with tls_key_file.",
    },
    Setting {
        name: "tls_key_file",
        default: "",
        kind: Kind::Path,
        doc: "PEM client key, with tls_cert_file.",
    },
    Setting {
        name: "min_replicas_ack",
        default: "0",
        kind: Kind::Count { max: 16 },
        doc: "Replicas that must acknowledge (WAIT) a new lock before it counts as taken.",
    },
    Setting {
        name: "replica_ack_timeout_ms",
        default: "500",
        kind: Kind::Millis { min: 1 },
        doc: "How long that WAIT may take.",
    },
    Setting {
        name: "reply_spin_us",
        default: "100",
        kind: Kind::Count { max: MAX_SPIN_US },
        doc: "Microseconds a connection polls for a reply before sleeping (redis:// and unix:// only; 0: never).",
    },
];

/// Read once, from php.ini, when the extension starts: the size of the
/// shared memory region of the pool-wide figures (`crate::stats::share`).
/// Not a [`crate::Config`] setting: it cannot change per call or request.
pub const METRICS_SHM_BYTES: Setting = Setting {
    name: "metrics_shm_bytes",
    default: "16384",
    kind: Kind::Count { max: 1 << 24 },
    doc: "Size of the shared memory that makes stats() and metrics() pool-wide (0: per process); read at startup from php.ini.",
};

/// The setting of that name.
pub fn find(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Every INI entry: the settings, then the one read at startup.
pub fn ini_entries() -> impl Iterator<Item = &'static Setting> {
    SETTINGS.iter().chain([&METRICS_SHM_BYTES])
}

/// Every setting's name, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    SETTINGS.iter().map(|s| s.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Value};

    #[test]
    fn every_default_is_accepted_and_is_what_config_starts_from() {
        let mut applied = Config::default();
        for s in &SETTINGS {
            applied
                .set(s.name, Value::Str(s.default.into()), true)
                .unwrap_or_else(|e| panic!("default of {}: {e}", s.name));
        }
        assert_eq!(applied, Config::default());
        assert_eq!(Config::default().redis_url, "redis://127.0.0.1:6379");
        assert_eq!(Config::default().lock_ttl_ms, 30_000);
    }

    #[test]
    fn the_readme_table_lists_every_setting_with_its_default() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md beside core/");
        let mut listed = Vec::new();
        for line in readme.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split(" | ").collect();
            if cells.len() < 3 {
                continue;
            }
            let default = cells[1].trim_matches('`');
            for name in cells[0].trim_start_matches("| ").split(", ") {
                let name = name.trim_matches('`');
                if let Some(s) = ini_entries().find(|s| s.name == name) {
                    let shown = if s.default.is_empty() {
                        "(empty)"
                    } else {
                        s.default
                    };
                    assert_eq!(default, shown, "README default of {name}");
                    listed.push(name);
                }
            }
        }
        let all: Vec<&str> = ini_entries().map(|s| s.name).collect();
        listed.sort_unstable();
        let mut expected = all.clone();
        expected.sort_unstable();
        assert_eq!(listed, expected, "README settings table");
    }
}
