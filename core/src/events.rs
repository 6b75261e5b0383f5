//! Log events for `setLogger()`. The core only queues them (the watchdog
//! thread may produce some); the binding hands them to the PHP logger from
//! the PHP thread at safe points, so a logger never runs inside the core.

use crate::process;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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

struct Queue {
    generation: u64,
    events: VecDeque<Event>,
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUE: Mutex<Queue> = parking_lot::const_mutex(Queue {
    generation: 0,
    events: VecDeque::new(),
});

/// Events are only built while a logger is installed.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Release);
    if !on {
        QUEUE.lock().events.clear();
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
    let gen = process::generation();
    let mut q = QUEUE.lock();
    if q.generation != gen {
        q.generation = gen;
        q.events.clear();
    }
    if q.events.len() == MAX_QUEUED {
        q.events.pop_front();
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
    q.events.push_back(event);
}

/// Takes the queued events of this process.
pub fn drain() -> Vec<Event> {
    let gen = process::generation();
    let mut q = QUEUE.lock();
    if q.generation != gen {
        q.generation = gen;
        q.events.clear();
        return Vec::new();
    }
    q.events.drain(..).collect()
}

pub(crate) fn lock_for_fork() {
    std::mem::forget(QUEUE.lock());
}

pub(crate) fn unlock_after_fork() {
    // SAFETY: paired with the guard forgotten in `lock_for_fork` on this thread.
    unsafe { QUEUE.force_unlock() };
}

pub fn s(v: impl Into<String>) -> Field {
    Field::Str(v.into())
}

pub fn i(v: impl TryInto<i64>) -> Field {
    Field::Int(v.try_into().unwrap_or(i64::MAX))
}
