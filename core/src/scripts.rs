//! The Lua scripts, compiled in. Each runs atomically on the server, called
//! with EVALSHA and loaded on NOSCRIPT.

use once_cell::sync::Lazy;
use redis::{Cmd, ConnectionLike, ErrorKind, FromRedisValue, RedisResult, Script};
use redis::{ServerErrorKind, ToRedisArgs};

/// A script as the server knows it (by its SHA1).
pub struct Lua(Script);

/// One call of a script: keys given up front, then the arguments. Written
/// straight into one command, where redis-rs' own invocation first copies
/// every key and argument into a vector of its own; a release is sent with a
/// waiter blocked on it.
pub struct Call<'a> {
    lua: &'a Lua,
    cmd: Cmd,
}

impl Lua {
    fn new(code: &str) -> Self {
        Lua(Script::new(code))
    }

    pub fn call(&self, keys: &[&str]) -> Call<'_> {
        let mut cmd = Cmd::with_capacity(keys.len() + 10, 256);
        cmd.arg("EVALSHA")
            .arg(self.0.get_hash())
            .arg(keys.len())
            .arg(keys);
        Call { lua: self, cmd }
    }
}

impl Call<'_> {
    pub fn arg<T: ToRedisArgs>(&mut self, arg: T) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    pub fn invoke<T: FromRedisValue>(&self, con: &mut dyn ConnectionLike) -> RedisResult<T> {
        match self.cmd.query(con) {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                self.lua.0.load(con)?;
                self.cmd.query(con)
            }
            reply => reply,
        }
    }
}

macro_rules! with_fence {
    ($file:literal) => {
        concat!(include_str!("scripts/fence.lua"), include_str!($file))
    };
}

macro_rules! with_wake {
    ($file:literal) => {
        concat!(include_str!("scripts/once_wake.lua"), include_str!($file))
    };
}

pub static ACQUIRE: Lazy<Lua> = Lazy::new(|| Lua::new(with_fence!("scripts/acquire.lua")));
pub static RELEASE: Lazy<Lua> = Lazy::new(|| Lua::new(with_fence!("scripts/release.lua")));
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
