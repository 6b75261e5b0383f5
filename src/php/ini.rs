//! `monei_concurrency.*` INI entries: registered at startup, read per object.

use crate::php::args::Options;
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};
use monei_concurrency_core::config::LOCK_SETTINGS;
use monei_concurrency_core::{Config, Error, Value};
use std::ffi::{c_char, c_int, CStr};

static ENTRIES: IniEntryDefs<14> = IniEntryDefs::new([
    IniEntryDef::new(
        c"monei_concurrency.redis_url",
        c"redis://127.0.0.1:6379",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.key_prefix",
        c"monei:",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.lock_ttl_ms",
        c"30000",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.lock_wait_ms",
        c"10000",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.max_hold_ms",
        c"600000",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.connect_timeout_ms",
        c"1000",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.io_timeout_ms",
        c"2000",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.slow_hold_ms",
        c"5000",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.tls_ca_file",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.tls_cert_file",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.tls_key_file",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.min_replicas_ack",
        c"0",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"monei_concurrency.replica_ack_timeout_ms",
        c"500",
        IniEntryPermission::All,
    ),
    IniEntryDef::end(),
]);

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

/// INI values, then the per-object `$options` on top.
pub fn config_with(options: &Options) -> Result<Config, Error> {
    Ok(config_with_extras(options, &[])?.0)
}

/// Like [`config_with`], also handing back the class-specific options named in `extras`.
pub fn config_with_extras(
    options: &Options,
    extras: &[&str],
) -> Result<(Config, Vec<(String, Value)>), Error> {
    let mut cfg = config()?;
    let rest = cfg.apply(&options.0, extras)?;
    Ok((cfg, rest))
}
