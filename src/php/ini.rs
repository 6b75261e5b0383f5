//! `monei_concurrency.*` INI entries: registered at startup, read per object
//! (and `metrics_shm_bytes` once, at startup).

use crate::php::args::Options;
use ext_php_rs::ffi::{zend_ini_entry, zend_string};
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::types::ZendStr;
use ext_php_rs::zend::IniEntryDef;
use monei_concurrency_core::settings::{self, SETTINGS};
use monei_concurrency_core::{Config, Error, Value};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::OnceLock;

/// An INI entry anyone may set, checked by [`on_modify`].
fn entry(name: &'static CStr, default: &'static CStr) -> IniEntryDef {
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

/// The INI table built from the core's settings, and the strings it points
/// into. Kept in a static for the life of the process (PHP may keep pointers
/// into it), so it is reachable, not leaked.
struct IniTable {
    _strings: Vec<CString>,
    entries: Vec<IniEntryDef>,
}

// SAFETY: built once at module startup and never changed; the raw pointers
// inside the entries point into `_strings` of the same value.
unsafe impl Sync for IniTable {}
unsafe impl Send for IniTable {}

static TABLE: OnceLock<IniTable> = OnceLock::new();

/// Registers `monei_concurrency.<name>` for every setting the core declares.
pub fn register(module_number: i32) {
    let table = TABLE.get_or_init(|| {
        let mut strings = Vec::new();
        for s in settings::ini_entries() {
            for text in [
                format!("monei_concurrency.{}", s.name),
                s.default.to_string(),
            ] {
                strings.push(CString::new(text).expect("setting names and defaults have no NUL"));
            }
        }
        // SAFETY: a CString's bytes live on the heap and do not move when the
        // vector holding it moves; the vector lives in TABLE until the process
        // ends, so the references stay valid for 'static.
        let fixed = |c: &CString| -> &'static CStr { unsafe { &*(c.as_c_str() as *const CStr) } };
        let mut entries: Vec<IniEntryDef> = strings
            .chunks(2)
            .take(SETTINGS.len())
            .map(|pair| entry(fixed(&pair[0]), fixed(&pair[1])))
            .collect();
        // The size of a region mapped at startup: php.ini only, and no
        // handler: a bad value is reported by the startup code, which then
        // keeps the figures per process (with a failing handler PHP would
        // silently take the default instead).
        let startup = &strings[2 * SETTINGS.len()..];
        entries.push(IniEntryDef::new(
            fixed(&startup[0]),
            fixed(&startup[1]),
            IniEntryPermission::System,
        ));
        entries.push(IniEntryDef::end());
        IniTable {
            _strings: strings,
            entries,
        }
    });
    IniEntryDef::register(table.entries.as_slice(), module_number);
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
    for name in settings::names() {
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
