//! The Lua scripts, compiled in. Each runs atomically on the server through
//! redis-rs' script invocation (EVALSHA, loaded on NOSCRIPT).

use once_cell::sync::Lazy;
use redis::{Script, ScriptInvocation};

/// A script as the server knows it (by its SHA1).
pub struct Lua(Script);

impl Lua {
    #[cfg(not(test))]
    fn new(code: &str) -> Self {
        Lua(Script::new(code))
    }

    /// In the core's unit tests every script runs with each `redis.call`
    /// checked: a key it touches must be one of its declared `KEYS`, as
    /// Redis Cluster requires (and servers such as Dragonfly enforce).
    #[cfg(test)]
    fn new(code: &str) -> Self {
        Lua(Script::new(&format!(
            "{}{}",
            include_str!("scripts/test_declared_keys.lua"),
            code.replace("redis.call(", "declared_call(")
        )))
    }

    /// One call of the script with these keys; the arguments follow.
    pub fn call(&self, keys: &[&str]) -> ScriptInvocation<'_> {
        self.0.key(keys)
    }
}

/// The lock scripts that read queue entries: fencing plus the wake-up slots.
macro_rules! with_slots {
    ($file:literal) => {
        concat!(
            include_str!("scripts/fence.lua"),
            include_str!("scripts/wake_slots.lua"),
            include_str!($file)
        )
    };
}

macro_rules! with_wake {
    ($file:literal) => {
        concat!(include_str!("scripts/once_wake.lua"), include_str!($file))
    };
}

pub static ACQUIRE: Lazy<Lua> = Lazy::new(|| Lua::new(with_slots!("scripts/acquire.lua")));
pub static RELEASE: Lazy<Lua> = Lazy::new(|| Lua::new(with_slots!("scripts/release.lua")));
pub static EXTEND: Lazy<Lua> = Lazy::new(|| Lua::new(include_str!("scripts/extend.lua")));
pub static HELD: Lazy<Lua> = Lazy::new(|| Lua::new(include_str!("scripts/held.lua")));
pub static CANCEL: Lazy<Lua> = Lazy::new(|| Lua::new(include_str!("scripts/cancel.lua")));
pub static ONCE_CLAIM: Lazy<Lua> = Lazy::new(|| Lua::new(include_str!("scripts/once_claim.lua")));
pub static ONCE_COMPLETE: Lazy<Lua> =
    Lazy::new(|| Lua::new(with_wake!("scripts/once_complete.lua")));
pub static ONCE_ABANDON: Lazy<Lua> = Lazy::new(|| Lua::new(with_wake!("scripts/once_abandon.lua")));
pub static STATE_ADVANCE: Lazy<Lua> =
    Lazy::new(|| Lua::new(include_str!("scripts/state_advance.lua")));
pub static INSPECT: Lazy<Lua> = Lazy::new(|| Lua::new(include_str!("scripts/inspect.lua")));

#[cfg(test)]
mod tests {
    //! Every script through the core's own API, with each `redis.call`
    //! checked against the script's KEYS (see `Lua::new` under test): one
    //! touching an undeclared key fails the call.
    use crate::{Config, IdempotencyStore, Locker, PaymentStateMachine};
    use std::time::Duration;

    fn cfg(tag: &str) -> Config {
        Config {
            redis_url: std::env::var("REDIS_URL").expect("REDIS_URL (run under with-redis.sh)"),
            key_prefix: format!("declared-{}-{tag}:", std::process::id()),
            ..Config::default()
        }
    }

    #[test]
    fn the_lock_scripts_touch_only_declared_keys() {
        let cfg = cfg("lock");
        let a = Locker::new(cfg.clone()).unwrap();
        let b = Locker::new_in_scope(cfg, "other").unwrap();
        let res = a.order(b"1").unwrap();
        let lease = a.acquire(&res, Some(0), Some(5_000)).unwrap();
        lease.extend(5_000).unwrap();
        assert!(lease.is_held().unwrap());
        assert!(lease.remaining_ms().unwrap() > 0);
        assert!(a.inspect(&res).unwrap().is_some());
        std::thread::scope(|s| {
            // A waiter, woken by the hand-off of the release below.
            let waiter = s.spawn(|| b.acquire(&res, Some(5_000), Some(5_000)).unwrap());
            while a.inspect(&res).unwrap().unwrap().waiters == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(lease.release().unwrap());
            let handed = waiter.join().unwrap();
            // A waiter that gives up (cancel), then a forced release.
            assert!(a.acquire(&res, Some(50), None).is_err());
            assert!(a.force_unlock(&res).unwrap());
            drop(handed);
        });
    }

    #[test]
    fn the_idempotency_and_state_scripts_touch_only_declared_keys() {
        let cfg = cfg("once");
        let store = IdempotencyStore::new(cfg.clone(), &[]).unwrap();
        std::thread::scope(|s| {
            let first = s.spawn(|| {
                store.once(b"k", b"", 0, || {
                    std::thread::sleep(Duration::from_millis(200));
                    Ok::<_, ()>(((), b"r".to_vec()))
                })
            });
            std::thread::sleep(Duration::from_millis(50));
            // Waits, and is woken by the completion.
            let second = store.once(b"k", b"", 5_000, || Ok::<_, ()>(((), b"x".to_vec())));
            assert!(matches!(second, Ok(crate::Once::Replayed(r)) if r == b"r"));
            assert!(first.join().unwrap().is_ok());
        });
        assert!(store
            .once(b"fails", b"", 0, || Err::<((), Vec<u8>), _>("no"))
            .is_err());
        let sm = PaymentStateMachine::new(cfg, &[]).unwrap();
        assert!(sm.advance(b"pay", "PENDING").unwrap());
        assert!(sm.advance(b"pay", "SUCCEEDED").unwrap());
    }
}
