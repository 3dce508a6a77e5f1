//! A path-tracking reader over a TOML table: typed getters that record every error, with the
//! key path, instead of stopping at the first one, and flag unknown or unsupported keys.

use std::cell::RefCell;
use std::sync::LazyLock;
use std::time::Duration;

use toml::{Table, Value};

use super::stage;
use super::units::{parse_duration, parse_size, DURATION_FORMS, SIZE_FORMS};
use super::ConfigError;

/// Why a value was refused; shown after its key path.
pub type Reason = String;

/// Stands in for an absent table, so that its defaults are read the same way.
static EMPTY: LazyLock<Table> = LazyLock::new(Table::new);

/// The error list shared by every [`Section`] of one parse.
#[derive(Debug, Default)]
pub struct Errors(RefCell<Vec<ConfigError>>);

impl Errors {
    pub fn push(&self, path: impl Into<String>, reason: impl Into<String>) {
        let error = ConfigError { path: path.into(), reason: reason.into() };
        self.0.borrow_mut().push(error);
    }

    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0.into_inner()
    }
}

/// One TOML table at a key path. Keys that no getter asked for are reported when the
/// section is dropped: as `not supported yet` when listed in [`stage::NOT_SUPPORTED`],
/// else as `unknown key`.
pub struct Section<'a> {
    path: String,
    table: &'a Table,
    errors: &'a Errors,
    not_supported: &'a [&'a str],
    seen: Vec<String>,
}

impl<'a> Section<'a> {
    /// The top-level section (empty path).
    pub fn root(table: &'a Table, errors: &'a Errors, not_supported: &'a [&'a str]) -> Self {
        Section { path: String::new(), table, errors, not_supported, seen: Vec::new() }
    }

    pub fn errors(&self) -> &'a Errors {
        self.errors
    }

    /// The full key path of `key` in this section.
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// True when this section has `key` (whether or not it is valid or supported).
    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// Records an error at `key` of this section.
    pub fn error(&self, key: &str, reason: impl Into<String>) {
        self.errors.push(self.path_of(key), reason);
    }

    /// The raw value of `key`; `None` when absent or refused as not supported yet.
    fn value(&mut self, key: &str) -> Option<&'a Value> {
        self.seen.push(key.to_string());
        let value = self.table.get(key)?;
        if stage::is_not_supported(self.not_supported, &self.path_of(key)) {
            self.error(key, stage::NOT_SUPPORTED_REASON);
            return None;
        }
        Some(value)
    }

    /// Reads and converts `key`; `None` when absent or invalid (the error is recorded).
    pub fn get<T>(&mut self, key: &str, conv: impl Fn(&'a Value) -> Result<T, Reason>) -> Option<T> {
        let value = self.value(key)?;
        conv(value).map_err(|reason| self.error(key, reason)).ok()
    }

    /// Reads an array, converting each item; `None` when absent or when any item is invalid
    /// (each bad item is recorded with its index, e.g. `bind[1]`).
    pub fn list<T>(&mut self, key: &str, conv: impl Fn(&'a Value) -> Result<T, Reason>) -> Option<Vec<T>> {
        let Value::Array(items) = self.value(key)? else {
            self.error(key, "expected an array");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match conv(item) {
                Ok(v) => out.push(v),
                Err(reason) => {
                    ok = false;
                    self.errors.push(format!("{}[{i}]", self.path_of(key)), reason);
                }
            }
        }
        ok.then_some(out)
    }

    /// The sub-table `key` (`[a.key]` or `key = { ... }`).
    pub fn table(&mut self, key: &str) -> Option<Section<'a>> {
        let Value::Table(table) = self.value(key)? else {
            self.error(key, "expected a table");
            return None;
        };
        Some(self.child(self.path_of(key), table))
    }

    /// The sub-table `key`, or an empty section when it is absent or invalid.
    pub fn section(&mut self, key: &str) -> Section<'a> {
        self.table(key).unwrap_or_else(|| self.child(self.path_of(key), &EMPTY))
    }

    /// Like [`Section::get`], but an absent key is an error too.
    pub fn require<T>(&mut self, key: &str, conv: impl Fn(&'a Value) -> Result<T, Reason>) -> Option<T> {
        if !self.has(key) {
            self.error(key, "missing required key");
            return None;
        }
        self.get(key, conv)
    }

    /// The array of tables `key` (`[[key]]`); `None` when absent or when an item is not a table.
    pub fn tables(&mut self, key: &str) -> Option<Vec<Section<'a>>> {
        let Value::Array(items) = self.value(key)? else {
            self.error(key, "expected an array of tables ([[...]])");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("{}[{i}]", self.path_of(key));
            match item {
                Value::Table(table) => out.push(self.child(path, table)),
                _ => self.errors.push(path, "expected a table"),
            }
        }
        (out.len() == items.len()).then_some(out)
    }

    fn child(&self, path: String, table: &'a Table) -> Section<'a> {
        Section { path, table, errors: self.errors, not_supported: self.not_supported, seen: Vec::new() }
    }
}

impl Drop for Section<'_> {
    fn drop(&mut self) {
        for key in self.table.keys().filter(|k| !self.seen.contains(k)) {
            let path = self.path_of(key);
            if stage::is_not_supported(self.not_supported, &path) {
                self.errors.push(path, stage::NOT_SUPPORTED_REASON);
            } else {
                self.errors.push(path, "unknown key");
            }
        }
    }
}

/// A string value.
pub fn string(value: &Value) -> Result<&str, Reason> {
    value.as_str().ok_or_else(|| "expected a string".to_string())
}

/// A string value passed through `parse`.
pub fn text<T>(parse: impl Fn(&str) -> Result<T, Reason>) -> impl Fn(&Value) -> Result<T, Reason> {
    move |value| parse(string(value)?)
}

/// `true` or `false`.
pub fn boolean(value: &Value) -> Result<bool, Reason> {
    value.as_bool().ok_or_else(|| "expected true or false".to_string())
}

/// A non-negative integer that fits `T`.
pub fn uint<T: TryFrom<i64>>(value: &Value) -> Result<T, Reason> {
    let n = value.as_integer().ok_or_else(|| "expected an integer".to_string())?;
    let max = u64::MAX >> (64 - 8 * std::mem::size_of::<T>());
    T::try_from(n).map_err(|_| format!("expected an integer from 0 to {max}, got {n}"))
}

/// A size: integer bytes or a string with a unit.
pub fn size(value: &Value) -> Result<u64, Reason> {
    match value {
        Value::Integer(n) => u64::try_from(*n).map_err(|_| SIZE_FORMS.to_string()),
        Value::String(s) => parse_size(s).ok_or_else(|| format!("{SIZE_FORMS}, got {s:?}")),
        _ => Err(SIZE_FORMS.to_string()),
    }
}

/// A duration: integer seconds or a string with a unit.
pub fn duration(value: &Value) -> Result<Duration, Reason> {
    match value {
        Value::Integer(n) => u64::try_from(*n).map(Duration::from_secs).map_err(|_| DURATION_FORMS.to_string()),
        Value::String(s) => parse_duration(s).ok_or_else(|| format!("{DURATION_FORMS}, got {s:?}")),
        _ => Err(DURATION_FORMS.to_string()),
    }
}

/// Wraps a converter so that a zero result is refused.
pub fn nonzero<T: PartialEq + Default>(
    conv: impl Fn(&Value) -> Result<T, Reason>,
) -> impl Fn(&Value) -> Result<T, Reason> {
    move |value| {
        let v = conv(value)?;
        if v == T::default() {
            return Err("must not be 0".to_string());
        }
        Ok(v)
    }
}
