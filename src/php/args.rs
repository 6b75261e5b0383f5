//! PHP argument types the extension accepts, converted at the boundary.

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, Zval};
use monei_concurrency_core::Value;

/// A PHP string as raw bytes (ids, payloads, headers); validation is the core's.
/// Integers are accepted as their decimal form, as PHP's weak mode would.
#[derive(Default)]
pub struct Bytes(pub Vec<u8>);

impl StubLiteral for Bytes {
    fn stub_literal(&self) -> String {
        format!(
            "'{}'",
            String::from_utf8_lossy(&self.0)
                .replace('\\', "\\\\")
                .replace('\'', "\\'")
        )
    }
}

impl<'a> FromZval<'a> for Bytes {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if let Some(s) = zval.zend_str() {
            return Some(Bytes(s.as_bytes().to_vec()));
        }
        zval.long().map(|n| Bytes(n.to_string().into_bytes()))
    }
}

/// An `array $options = []` argument, as (name, value) pairs. Keys that are
/// not strings are kept so the core can reject them by name.
#[derive(Default)]
pub struct Options(pub Vec<(String, Value)>);

impl<'a> FromZval<'a> for Options {
    const TYPE: DataType = DataType::Array;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let table = zval.array()?;
        Some(Options(entries(table, 1)))
    }
}

impl StubLiteral for Options {
    fn stub_literal(&self) -> String {
        "[]".into()
    }
}

/// (key, value) pairs of a PHP array. Keys are read as zvals: ext-php-rs'
/// own iterator panics on a string key that is not UTF-8, which becomes a
/// name the core then refuses like any other unknown option.
fn entries(table: &ZendHashTable, depth: usize) -> Vec<(String, Value)> {
    let mut it = table.iter();
    let mut out = Vec::with_capacity(table.len());
    while let Some((key, value)) = it.next_zval() {
        let name = match (key.long(), key.zend_str()) {
            (Some(n), _) if key.is_long() => n.to_string(),
            (_, Some(s)) => match std::str::from_utf8(s.as_bytes()) {
                Ok(text) => text.to_string(),
                // A name nothing accepts (settings and statuses refuse NUL),
                // never one that could pass for another key.
                Err(_) => format!("\0non-UTF-8 key {}", String::from_utf8_lossy(s.as_bytes())),
            },
            _ => String::new(),
        };
        out.push((name, php_value_at(value, depth)));
    }
    out
}

/// The values of a PHP array, without touching its keys (see [`entries`]).
pub fn values(table: &ZendHashTable) -> Vec<&Zval> {
    let mut it = table.iter();
    let mut out = Vec::with_capacity(table.len());
    while let Some((_, value)) = it.next_zval() {
        out.push(value);
    }
    out
}

/// Deepest nesting of arrays read from options (a transition graph needs 2).
const MAX_DEPTH: usize = 4;

/// Typed view of a PHP value for option checking, `depth` arrays deep.
fn php_value_at(z: &Zval, depth: usize) -> Value {
    if let Some(table) = z.array() {
        if depth >= MAX_DEPTH {
            return Value::Other("nested array");
        }
        return Value::Array(entries(table, depth + 1));
    }
    if let Some(n) = z.long() {
        if z.is_long() {
            return Value::Int(n);
        }
    }
    if let Some(s) = z.zend_str() {
        // Settings and status names are text; bytes that are not UTF-8 are
        // refused rather than silently replaced.
        return match std::str::from_utf8(s.as_bytes()) {
            Ok(text) => Value::Str(text.to_string()),
            Err(_) => Value::Other("non-UTF-8 string"),
        };
    }
    Value::Other(type_name(z))
}

fn type_name(z: &Zval) -> &'static str {
    if z.is_null() {
        "null"
    } else if z.is_bool() {
        "bool"
    } else if z.is_double() {
        "float"
    } else if z.is_array() {
        "array"
    } else if z.is_object() {
        "object"
    } else {
        "value"
    }
}
