//! `monei_concurrency.*` INI entries: registered at startup, read per object.

use crate::php::args::Options;
use ext_php_rs::ffi::{zend_ini_entry, zend_string};
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::types::ZendStr;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};
use monei_concurrency_core::config::LOCK_SETTINGS;
use monei_concurrency_core::{Config, Error, Value};
use std::ffi::{c_char, c_int, c_void, CStr};

static ENTRIES: IniEntryDefs<15> = IniEntryDefs::new([
    entry(c"monei_concurrency.redis_url", c"redis://127.0.0.1:6379"),
    entry(c"monei_concurrency.key_prefix", c"monei:"),
    entry(c"monei_concurrency.lock_ttl_ms", c"30000"),
    entry(c"monei_concurrency.lock_wait_ms", c"10000"),
    entry(c"monei_concurrency.max_hold_ms", c"600000"),
    entry(c"monei_concurrency.connect_timeout_ms", c"1000"),
    entry(c"monei_concurrency.io_timeout_ms", c"2000"),
    entry(c"monei_concurrency.slow_hold_ms", c"5000"),
    entry(c"monei_concurrency.tls_ca_file", c""),
    entry(c"monei_concurrency.tls_cert_file", c""),
    entry(c"monei_concurrency.tls_key_file", c""),
    entry(c"monei_concurrency.min_replicas_ack", c"0"),
    entry(c"monei_concurrency.replica_ack_timeout_ms", c"500"),
    entry(c"monei_concurrency.reply_spin_us", c"100"),
    IniEntryDef::end(),
]);

/// An INI entry anyone may set, checked by [`on_modify`].
const fn entry(name: &'static CStr, default: &'static CStr) -> IniEntryDef {
    let mut e = IniEntryDef::new(name, default, IniEntryPermission::All);
    e.on_modify = Some(on_modify);
    e
}

/// Accepts a new value only if the core would (so `ini_set()` of a bad value
/// returns false and php.ini typos are reported at startup); without any
/// handler PHP would also refuse `ini_restore()`.
unsafe extern "C" fn on_modify(
    entry: *mut zend_ini_entry,
    new_value: *mut zend_string,
    _a1: *mut c_void,
    _a2: *mut c_void,
    _a3: *mut c_void,
    _stage: c_int,
) -> c_int {
    const SUCCESS: c_int = 0;
    const FAILURE: c_int = -1;
    let check = std::panic::catch_unwind(|| {
        // SAFETY: PHP passes its own live entry and the new value's string.
        let (name, value) = unsafe {
            let name = (*entry)
                .name
                .cast::<ZendStr>()
                .as_ref()
                .map(|n| n.as_bytes().to_vec());
            let value = new_value
                .cast::<ZendStr>()
                .as_ref()
                .map(|v| v.as_bytes().to_vec());
            (name?, value.unwrap_or_default())
        };
        let name = std::str::from_utf8(&name)
            .ok()?
            .strip_prefix("monei_concurrency.")?
            .to_string();
        let value = String::from_utf8(value).ok()?;
        Config::default().set(&name, Value::Str(value), true).ok()
    });
    match check {
        Ok(Some(())) => SUCCESS,
        _ => FAILURE,
    }
}

pub fn register(module_number: i32) {
    IniEntryDef::register(ENTRIES.as_slice(), module_number);
}

extern "C" {
    // PHP's own accessor; ext-php-rs only offers a whole-table copy per call.
    fn zend_ini_string_ex(
        name: *const c_char,
        name_length: usize,
        orig: c_int,
        exists: *mut bool,
    ) -> *mut c_char;
}

/// Current value of one of our INI entries (after ini_set), if registered.
pub fn get(setting: &str) -> Option<String> {
    read(setting, false)
}

/// The value from php.ini, before any ini_set() of this request.
pub fn get_master(setting: &str) -> Option<String> {
    read(setting, true)
}

fn read(setting: &str, master: bool) -> Option<String> {
    let name = format!("monei_concurrency.{setting}");
    let mut exists = false;
    // SAFETY: the name is a valid buffer of the given length; PHP returns a
    // NUL-terminated string owned by the INI table, copied out at once.
    unsafe {
        let p = zend_ini_string_ex(
            name.as_ptr().cast(),
            name.len(),
            c_int::from(master),
            &mut exists,
        );
        (exists && !p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// Configuration from the INI entries only.
pub fn config() -> Result<Config, Error> {
    let mut cfg = Config::default();
    for name in LOCK_SETTINGS {
        if let Some(v) = get(name) {
            cfg.set(name, Value::Str(v), true)
                .map_err(|e| Error::invalid(format!("INI monei_concurrency.{name}: {e}")))?;
        }
    }
    Ok(cfg)
}

/// A lock service for INI values with the per-object `$options` on top.
pub fn locker(options: &Options) -> Result<monei_concurrency_core::Locker, Error> {
    monei_concurrency_core::Locker::new(config_with_extras(options, &[])?.0)
}

/// INI values, then the per-object `$options` on top; the class-specific
/// options named in `extras` are handed back for the class to check.
pub fn config_with_extras(
    options: &Options,
    extras: &[&str],
) -> Result<(Config, Vec<(String, Value)>), Error> {
    let mut cfg = config()?;
    let rest = cfg.apply(&options.0, extras)?;
    Ok((cfg, rest))
}
