//! Redis key layout.
//!
//! Every key of one order shares the Redis Cluster hash tag `{<order>}`, so each
//! Lua script touches a single slot. Identifiers are percent-encoded so that the
//! separators `:`, `{`, `}` and `%` never appear raw inside a component: that
//! makes the mapping from `(order, payment)` to key injective, e.g. `("1:2","3")`
//! and `("1","2:3")` land on different keys.

use crate::error::{Error, Result};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Longest identifier accepted, in bytes.
pub const MAX_ID_BYTES: usize = 255;

/// Checks an identifier and encodes it for use inside a key.
pub fn encode_id(what: &str, id: &[u8]) -> Result<String> {
    if id.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(Error::invalid(format!(
            "{what} must be at most {MAX_ID_BYTES} bytes, got {}",
            id.len()
        )));
    }
    if id.contains(&0) {
        return Err(Error::invalid(format!("{what} must not contain NUL bytes")));
    }
    let mut out = String::with_capacity(id.len());
    for &b in id {
        if b.is_ascii_graphic() && !matches!(b, b':' | b'{' | b'}' | b'%') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// Waiters of one lock that are woken by their own wake-up list; more
/// waiters than this find a handed-over lock at their next attempt.
pub const WAKE_SLOTS: usize = 16;

/// A lockable thing: an order, or one payment of an order. Its keys are built
/// once, so that no call to Redis formats them (a release is sent right after
/// the callback, with a waiter blocked on it), and clones share them.
#[derive(Clone, Debug)]
pub struct Resource(Arc<Keys>);

#[derive(Debug)]
struct Keys {
    /// Human-readable name, e.g. `order:100000123` or `payment:100000123:pay_abc`.
    name: String,
    /// `<prefix>{<order>}:order` or `<prefix>{<order>}:payment:<payment>`.
    base: String,
    lock: String,
    queue: String,
    fence: String,
    /// The lock's wake-up lists, one per slot (see `scripts/wake_slots.lua`),
    /// written one after the other into one string (one allocation per
    /// resource instead of one per slot: resources are made on every call);
    /// slot `i` is `wake[wake_ends[i - 1]..wake_ends[i]]`.
    wake: String,
    wake_ends: [usize; WAKE_SLOTS],
}

/// The lock key names the resource: every other key derives from the same
/// prefix and encoded identifiers.
impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        self.0.lock == other.0.lock
    }
}

impl Eq for Resource {}

impl Hash for Resource {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.lock.hash(state);
    }
}

impl Resource {
    pub fn order(prefix: &str, order_id: &[u8]) -> Result<Self> {
        let order = encode_id("order id", order_id)?;
        Ok(Resource::new(
            format!("order:{}", String::from_utf8_lossy(order_id)),
            format!("{prefix}{{{order}}}:order"),
        ))
    }

    pub fn payment(prefix: &str, order_id: &[u8], payment_id: &[u8]) -> Result<Self> {
        let order = encode_id("order id", order_id)?;
        let payment = encode_id("payment id", payment_id)?;
        Ok(Resource::new(
            format!(
                "payment:{}:{}",
                String::from_utf8_lossy(order_id),
                String::from_utf8_lossy(payment_id)
            ),
            format!("{prefix}{{{order}}}:payment:{payment}"),
        ))
    }

    fn new(name: String, base: String) -> Self {
        use std::fmt::Write;
        let mut wake = String::with_capacity(WAKE_SLOTS * (base.len() + 5));
        let mut wake_ends = [0; WAKE_SLOTS];
        for (i, end) in wake_ends.iter_mut().enumerate() {
            let _ = write!(wake, "{base}:w:{i}");
            *end = wake.len();
        }
        Resource(Arc::new(Keys {
            lock: format!("{base}:lock"),
            queue: format!("{base}:q"),
            fence: format!("{base}:fence"),
            wake,
            wake_ends,
            name,
            base,
        }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Hash: owner, fencing token and holder details of the current lease.
    pub fn lock_key(&self) -> &str {
        &self.0.lock
    }

    /// List of waiters' entries ("owner|deadline_ms|claim_ttl_ms|holder"),
    /// first come first served.
    pub fn queue_key(&self) -> &str {
        &self.0.queue
    }

    /// Last fencing token issued for this resource.
    pub fn fence_key(&self) -> &str {
        &self.0.fence
    }

    /// The wake-up list of one slot, which a waiter of that slot blocks on.
    pub fn wake_key(&self, slot: usize) -> &str {
        let start = if slot == 0 {
            0
        } else {
            self.0.wake_ends[slot - 1]
        };
        &self.0.wake[start..self.0.wake_ends[slot]]
    }

    /// Every wake-up list of the lock, in slot order.
    pub fn wake_keys(&self) -> impl Iterator<Item = &str> {
        (0..WAKE_SLOTS).map(|slot| self.wake_key(slot))
    }

    /// Who forced the last forceUnlock() and when (kept a day).
    pub fn forced_key(&self) -> String {
        format!("{}:forced", self.0.base)
    }

    /// The resource of a lock key found by SCAN, if it is one of ours.
    pub fn from_lock_key(prefix: &str, key: &[u8]) -> Option<Resource> {
        let rest = key
            .strip_prefix(prefix.as_bytes())?
            .strip_suffix(b":lock")?;
        let rest = std::str::from_utf8(rest).ok()?;
        let (tag, kind) = rest.strip_prefix('{')?.split_once('}')?;
        let order = decode_id(tag)?;
        let res = match kind {
            ":order" => Resource::order(prefix, &order).ok()?,
            _ => {
                let payment = decode_id(kind.strip_prefix(":payment:")?)?;
                Resource::payment(prefix, &order, &payment).ok()?
            }
        };
        // Only keys the encoder itself produces: anything else under the
        // prefix is not ours, however much it looks like it.
        (res.lock_key().as_bytes() == key).then_some(res)
    }
}

/// Inverse of [`encode_id`]; None for anything encode_id cannot produce.
fn decode_id(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Keys of one idempotency record, tagged by the key itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKeys {
    /// Printable form of the caller's key, for messages.
    pub name: String,
    /// Hash: state, fingerprint, claim owner, result, waiter count.
    pub record: String,
    /// List that wakes callers waiting for an in-progress claim.
    pub wake: String,
}

impl IdempotencyKeys {
    pub fn new(prefix: &str, key: &[u8]) -> Result<Self> {
        let enc = encode_id("idempotency key", key)?;
        Ok(IdempotencyKeys {
            name: crate::config::printable(&String::from_utf8_lossy(key)),
            record: format!("{prefix}{{{enc}}}:once"),
            wake: format!("{prefix}{{{enc}}}:once:wake"),
        })
    }
}

/// Key of a payment's status record.
pub fn payment_state_key(prefix: &str, payment_id: &[u8]) -> Result<String> {
    Ok(format!(
        "{prefix}{{{}}}:state",
        encode_id("payment id", payment_id)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_cannot_collide() {
        let a = Resource::payment("p:", b"1:2", b"3").unwrap();
        let b = Resource::payment("p:", b"1", b"2:3").unwrap();
        assert_ne!(a.lock_key(), b.lock_key());
        let c = Resource::payment("p:", b"1%3A2", b"3").unwrap();
        assert_ne!(a.lock_key(), c.lock_key());
        assert_eq!(a.lock_key(), "p:{1%3A2}:payment:3:lock");
        assert_eq!(c.lock_key(), "p:{1%253A2}:payment:3:lock");
    }

    #[test]
    fn braces_cannot_escape_the_hash_tag() {
        let r = Resource::payment("p:", b"a}b{", b"x}").unwrap();
        let k = r.lock_key();
        let open = k.find('{').unwrap();
        let close = k.find('}').unwrap();
        assert_eq!(&k[open + 1..close], "a%7Db%7B");
        assert_eq!(k.matches('{').count(), 1);
        assert_eq!(k.matches('}').count(), 1);
    }

    #[test]
    fn order_and_payment_keys_share_the_tag() {
        let o = Resource::order("m:", b"100").unwrap();
        let p = Resource::payment("m:", b"100", b"pay").unwrap();
        assert!(o.lock_key().starts_with("m:{100}:"));
        assert!(p.lock_key().starts_with("m:{100}:"));
        assert_ne!(o.lock_key(), p.lock_key());
        assert_eq!(p.name(), "payment:100:pay");
    }

    #[test]
    fn lock_keys_decode_back_to_their_resource() {
        for r in [
            Resource::order("m:", b"100").unwrap(),
            Resource::payment("m:", b"1:2", b"p}a y").unwrap(),
            Resource::payment("m:", b"\xff%", b"x").unwrap(),
        ] {
            assert_eq!(
                Resource::from_lock_key("m:", r.lock_key().as_bytes()),
                Some(r.clone())
            );
        }
        assert_eq!(Resource::from_lock_key("m:", b"m:{1}:order:fence"), None);
        assert_eq!(Resource::from_lock_key("x:", b"m:{1}:order:lock"), None);
        assert_eq!(Resource::from_lock_key("m:", b"m:{1%ZZ}:order:lock"), None);
        // Decodable but not canonical: lower-case escapes, raw separators.
        assert_eq!(Resource::from_lock_key("m:", b"m:{1%3a2}:order:lock"), None);
        assert_eq!(Resource::from_lock_key("m:", b"m:{a b}:order:lock"), None);
        assert_eq!(
            Resource::from_lock_key("m:", b"m:{1}:payment:a:b:lock"),
            None
        );
    }

    #[test]
    fn rejects_bad_ids() {
        assert!(encode_id("id", b"").is_err());
        assert!(encode_id("id", b"a\0b").is_err());
        assert!(encode_id("id", &[b'x'; 256]).is_err());
        assert!(encode_id("id", &[b'x'; 255]).is_ok());
        assert_eq!(encode_id("id", b"a b\xff").unwrap(), "a%20b%FF");
    }

    #[test]
    fn encoding_is_injective_on_small_alphabet() {
        // Exhaustive over short strings of the characters that matter.
        let alphabet = [b'a', b':', b'%', b'{', b'}', b'3', b'A'];
        let mut seen = std::collections::HashMap::new();
        let mut stack: Vec<Vec<u8>> = vec![vec![]];
        while let Some(s) = stack.pop() {
            if !s.is_empty() {
                let e = encode_id("id", &s).unwrap();
                if let Some(prev) = seen.insert(e.clone(), s.clone()) {
                    panic!("{prev:?} and {s:?} both encode to {e}");
                }
            }
            if s.len() < 4 {
                for &c in &alphabet {
                    let mut n = s.clone();
                    n.push(c);
                    stack.push(n);
                }
            }
        }
    }
}
