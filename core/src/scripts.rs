//! The Lua scripts, compiled in. Each runs atomically on the server; redis-rs
//! sends EVALSHA and falls back to loading the script on NOSCRIPT.

use once_cell::sync::Lazy;
use redis::Script;

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

pub static ACQUIRE: Lazy<Script> = Lazy::new(|| Script::new(with_fence!("scripts/acquire.lua")));
pub static RELEASE: Lazy<Script> = Lazy::new(|| Script::new(with_fence!("scripts/release.lua")));
pub static EXTEND: Lazy<Script> = Lazy::new(|| Script::new(include_str!("scripts/extend.lua")));
pub static HELD: Lazy<Script> = Lazy::new(|| Script::new(include_str!("scripts/held.lua")));
pub static CANCEL: Lazy<Script> = Lazy::new(|| Script::new(include_str!("scripts/cancel.lua")));
pub static ONCE_CLAIM: Lazy<Script> =
    Lazy::new(|| Script::new(include_str!("scripts/once_claim.lua")));
pub static ONCE_COMPLETE: Lazy<Script> =
    Lazy::new(|| Script::new(with_wake!("scripts/once_complete.lua")));
pub static ONCE_ABANDON: Lazy<Script> =
    Lazy::new(|| Script::new(with_wake!("scripts/once_abandon.lua")));
pub static STATE_ADVANCE: Lazy<Script> =
    Lazy::new(|| Script::new(include_str!("scripts/state_advance.lua")));
pub static INSPECT: Lazy<Script> = Lazy::new(|| Script::new(include_str!("scripts/inspect.lua")));
