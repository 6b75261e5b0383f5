//! PHP argument types the extension accepts, converted at the boundary.

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::Zval;
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
        let mut out = Vec::with_capacity(table.len());
        for (key, value) in table.iter() {
            out.push((key.to_string(), php_value_at(value, 1)));
        }
        Some(Options(out))
    }
}

impl StubLiteral for Options {
    fn stub_literal(&self) -> String {
        "[]".into()
    }
}

/// Deepest nesting of arrays read from options (a transition graph needs 2).
const MAX_DEPTH: usize = 4;

/// Typed view of a PHP value for option checking, `depth` arrays deep.
fn php_value_at(z: &Zval, depth: usize) -> Value {
    if let Some(table) = z.array() {
        if depth >= MAX_DEPTH {
            return Value::Other("nested array");
        }
        return Value::Array(
            table
                .iter()
                .map(|(k, v)| (k.to_string(), php_value_at(v, depth + 1)))
                .collect(),
        );
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
