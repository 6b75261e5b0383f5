//! How `IdempotencyStore` stores a callback's result: PHP's serialize()
//! format, restricted so that replaying a record can never create an object
//! of a class the store was not told to allow.
//!
//! Redis is often shared with caches and sessions; whoever can write one
//! record must not get to instantiate (and run the magic methods of) classes
//! in every worker. So a result is checked when it is stored (scalars and
//! arrays always, objects only of allowed classes) and replayed with
//! `unserialize($bytes, ['allowed_classes' => ...])`; a record that replays
//! to anything else was not written by this store and is refused.

use crate::php::exceptions::{to_php, Result, CONCURRENCY};
use ext_php_rs::exception::PhpException;
use ext_php_rs::ffi::ext_php_rs_executor_globals;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use monei_concurrency_core::{Error, Value};

/// Deepest nesting of arrays and objects a result may have (a recursive
/// structure counts as too deep).
pub const MAX_DEPTH: usize = 128;

/// PHP's stand-in for an object whose class `unserialize()` was not allowed to create.
const INCOMPLETE_CLASS: &str = "__PHP_Incomplete_Class";

/// The classes whose objects a store may keep, from its `allowed_classes` option.
#[derive(Default)]
pub struct AllowedClasses {
    /// As given (for `unserialize()`), and lower-cased (PHP class names are
    /// case-insensitive) for the check at store time.
    names: Vec<String>,
    lower: Vec<String>,
}

impl AllowedClasses {
    /// Reads the `allowed_classes` option: a list of class names.
    pub fn from_option(value: &Value) -> std::result::Result<Self, Error> {
        let bad = || Error::invalid("allowed_classes must be a list of class names");
        let Value::Array(entries) = value else {
            return Err(bad());
        };
        let mut allowed = AllowedClasses::default();
        for (_, entry) in entries {
            let Value::Str(name) = entry else {
                return Err(bad());
            };
            let name = name.trim_start_matches('\\');
            let valid = !name.is_empty()
                && name.split('\\').all(|part| {
                    part.chars().next().is_some_and(|c| !c.is_ascii_digit())
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
                });
            if !valid {
                return Err(Error::invalid(format!(
                    "allowed_classes: \"{}\" is not a class name",
                    name.escape_debug()
                )));
            }
            allowed.lower.push(name.to_ascii_lowercase());
            allowed.names.push(name.to_string());
        }
        Ok(allowed)
    }

    fn allows(&self, class: &str) -> bool {
        let class = class.to_ascii_lowercase();
        self.lower.contains(&class)
    }

    /// The `allowed_classes` option of `unserialize()`: false or the list.
    fn unserialize_option(&self) -> Result<Zval> {
        let mut options = ZendHashTable::new();
        if self.names.is_empty() {
            options.insert("allowed_classes", false)?;
        } else {
            options.insert("allowed_classes", self.names.clone())?;
        }
        let mut z = Zval::new();
        z.set_hashtable(options);
        Ok(z)
    }
}

fn cannot_store(why: impl std::fmt::Display) -> PhpException {
    to_php(Error::invalid(format!(
        "the callback's result cannot be stored: {why}"
    )))
}

/// What [`check_storable`] found in a value.
#[derive(Default)]
struct Found {
    objects: bool,
}

/// Refuses what may not be stored: objects of classes not allowed, and
/// anything nested deeper than [`MAX_DEPTH`]. Properties of allowed objects
/// are not looked into here (a class may serialize itself its own way);
/// [`serialize`] checks those by replaying the bytes.
fn check_storable(
    value: &Zval,
    allowed: &AllowedClasses,
    depth: usize,
    found: &mut Found,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(cannot_store(format!(
            "it is nested deeper than {MAX_DEPTH} levels (or refers to itself)"
        )));
    }
    if let Some(table) = value.array() {
        for item in crate::php::args::values(table) {
            check_storable(item, allowed, depth + 1, found)?;
        }
    } else if let Some(obj) = value.object() {
        let class = obj.get_class_name()?;
        if !allowed.allows(&class) {
            return Err(cannot_store(format!(
                "it holds an object of class {class}; results are scalars and arrays \
                 unless the class is listed in the store's allowed_classes option"
            )));
        }
        found.objects = true;
    }
    Ok(())
}

/// Whether an unserialized value holds an object of a class that was not
/// allowed (or lies deeper than a stored result may).
fn holds_refused_object(value: &Zval, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    if let Some(table) = value.array() {
        return crate::php::args::values(table)
            .into_iter()
            .any(|item| holds_refused_object(item, depth + 1));
    }
    if let Some(obj) = value.object() {
        if obj.get_class_name().is_ok_and(|c| c == INCOMPLETE_CLASS) {
            return true;
        }
        // What serialize() would write of it: __serialize()'s array where the
        // class has one (ArrayObject keeps its storage there), else its properties.
        if let Ok(state) = obj.try_call_method("__serialize", vec![]) {
            return holds_refused_object(&state, depth + 1);
        }
        if ExecutorGlobals::has_exception() {
            return true;
        }
        if let Ok(props) = obj.get_properties() {
            return crate::php::args::values(props)
                .into_iter()
                .any(|item| holds_refused_object(item, depth + 1));
        }
    }
    false
}

/// serialize($value), after checking that the value may be stored. A value
/// PHP refuses (a closure, an anonymous class) is an InvalidArgumentException;
/// PHP's own exception is taken, not left pending.
pub fn serialize(value: &Zval, allowed: &AllowedClasses) -> Result<Vec<u8>> {
    let mut found = Found::default();
    check_storable(value, allowed, 0, &mut found)?;
    let f = ZendCallable::try_from_name("serialize").map_err(PhpException::from)?;
    let bytes = match f.try_call(vec![value]) {
        Ok(z) => z
            .zend_str()
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| cannot_store("serialize() returned no string"))?,
        Err(_) => {
            let why = ExecutorGlobals::take_exception()
                .and_then(|e| e.try_call_method("getMessage", vec![]).ok())
                .and_then(|m| m.string())
                .unwrap_or_else(|| "serialize() failed".into());
            return Err(cannot_store(why));
        }
    };
    if found.objects {
        // An allowed object may carry objects of other classes in its own
        // serialized form: replay it now rather than fail every later caller.
        if unserialize_checked(&bytes, allowed).is_err() {
            let _ = ExecutorGlobals::take_exception();
            return Err(cannot_store(
                "an allowed object holds an object of a class that is not allowed",
            ));
        }
    }
    Ok(bytes)
}

/// The stored result of `key`, replayed. A record that does not replay to a
/// value this store writes (tampered with, or written with other
/// allowed_classes) is a ConcurrencyException; no object of a class that is
/// not allowed is ever created.
pub fn unserialize(bytes: &[u8], allowed: &AllowedClasses, key: &[u8]) -> Result<Zval> {
    unserialize_checked(bytes, allowed).map_err(|_| {
        let _ = ExecutorGlobals::take_exception();
        CONCURRENCY.throw(format!(
            "the stored result of idempotency key {} is not a value this store writes \
             (it was altered in Redis, or stored with other allowed_classes); it was not replayed",
            String::from_utf8_lossy(key).escape_debug()
        ))
    })
}

fn unserialize_checked(bytes: &[u8], allowed: &AllowedClasses) -> std::result::Result<Zval, ()> {
    let f = ZendCallable::try_from_name("unserialize").map_err(|_| ())?;
    let mut arg = Zval::new();
    arg.set_binary(bytes.to_vec());
    let options = allowed.unserialize_option().map_err(|_| ())?;
    let result = if allowed.names.is_empty() {
        // A malformed record is refused with our exception, not PHP's notice.
        // With no class allowed no user code can run (and so no bailout skip
        // the restore).
        // SAFETY: this thread's executor globals, changed and restored around
        // one call; no other reference to them is held meanwhile.
        let eg = unsafe { ext_php_rs_executor_globals() };
        let saved = unsafe { std::mem::replace(&mut (*eg).error_reporting, 0) };
        let result = f.try_call(vec![&arg, &options]);
        unsafe { (*eg).error_reporting = saved };
        result
    } else {
        f.try_call(vec![&arg, &options])
    };
    let value = result.map_err(|_| ())?;
    // unserialize() answers false for what it cannot read; b:0; is a stored false.
    if value.is_false() && bytes != b"b:0;" {
        return Err(());
    }
    if holds_refused_object(&value, 0) {
        return Err(());
    }
    Ok(value)
}
