//! Log events for `setLogger()`. The core only queues them (the watchdog
//! thread may produce some); the binding hands them to the PHP logger from
//! the PHP thread at safe points, so a logger never runs inside the core.

use crate::process::{lock, ForkLocal};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Events kept at most while nobody drains them; the oldest go first.
const MAX_QUEUED: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Str(String),
    Int(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// PSR-3 level name.
    pub level: &'static str,
    pub message: String,
    pub context: Vec<(&'static str, Field)>,
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUE: ForkLocal<Mutex<VecDeque<Event>>> = ForkLocal::new(Default::default);

/// Events are only built while a logger is installed.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Release);
    if !on {
        lock(QUEUE.get()).clear();
    }
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// Queues an event; `context` is only evaluated when a logger is installed.
pub fn emit(
    level: &'static str,
    message: &str,
    context: impl FnOnce() -> Vec<(&'static str, Field)>,
) {
    if !enabled() {
        return;
    }
    let event = Event {
        level,
        message: message.to_string(),
        context: context(),
    };
    let mut q = lock(QUEUE.get());
    if q.len() == MAX_QUEUED {
        q.pop_front();
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
    q.push_back(event);
}

/// Takes the queued events of this process.
pub fn drain() -> Vec<Event> {
    lock(QUEUE.get()).drain(..).collect()
}

pub fn s(v: impl Into<String>) -> Field {
    Field::Str(v.into())
}

pub fn i(v: impl TryInto<i64>) -> Field {
    Field::Int(v.try_into().unwrap_or(i64::MAX))
}
