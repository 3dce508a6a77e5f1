//! The users file of inbound `AUTH`: TOML `[[user]]` tables of `name` and an argon2 PHC hash.
//!
//! ```toml
//! [[user]]
//! name = "alice"
//! hash = "$argon2id$v=19$m=19456,t=2,p=1$...$..."
//! ```
//!
//! New hashes use argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: the OWASP
//! minimum), about 20-40 ms of one CPU per check; tern checks on the shard's blocking thread,
//! never on the shard itself. Any argon2 PHC string is accepted (its own parameters apply).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Deserialize;

/// Why a users file could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read users file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write users file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("users file {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("invalid user name {0:?}: 1 to 255 characters, no spaces or control characters")]
    BadName(String),
    #[error("user {0:?} already exists")]
    Exists(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    user: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    hash: String,
}

/// The users, by name, with their PHC hash strings (checked at load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Users {
    hashes: HashMap<String, String>,
    /// Checked when the name is unknown, so that a wrong name costs as long as a wrong password.
    decoy: String,
}

impl Users {
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read { path: path.into(), source })?;
        Users::parse(&text).map_err(|reason| UsersError::Invalid { path: path.into(), reason })
    }

    /// Parses the file's text; the error names the bad entry.
    pub fn parse(text: &str) -> Result<Users, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut hashes = HashMap::new();
        for (i, entry) in file.user.into_iter().enumerate() {
            check_name(&entry.name).map_err(|e| format!("user[{i}]: {e}"))?;
            let parsed =
                PasswordHash::new(&entry.hash).map_err(|e| format!("user[{i}].hash: not a PHC hash string ({e})"))?;
            if !matches!(parsed.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
                return Err(format!(
                    "user[{i}].hash: {} is not an argon2 hash (`tern user add` writes one)",
                    parsed.algorithm
                ));
            }
            if hashes.insert(entry.name.clone(), entry.hash).is_some() {
                return Err(format!("user[{i}]: {:?} appears twice", entry.name));
            }
        }
        let decoy = hashes.values().next().cloned().unwrap_or_else(|| DECOY.to_string());
        Ok(Users { hashes, decoy })
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// True when `name` exists and `password` (never empty) matches its hash. CPU-heavy: run it
    /// off the shard.
    pub fn verify(&self, name: &str, password: &[u8]) -> bool {
        if password.is_empty() {
            return false;
        }
        let (hash, known) = match self.hashes.get(name) {
            Some(hash) => (hash.as_str(), true),
            None => (self.decoy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        Argon2::default().verify_password(password, &parsed).is_ok() && known
    }
}

/// An argon2id hash of a password that matches nothing anyone types (used for unknown names).
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$dGVybmRlY295c2FsdA$ZGVjb3lkZWNveWRlY295ZGVjb3lkZWNveWRlY295ZGU";

/// Checks a user name: what `AUTH PLAIN` and `LOGIN` can carry and a log line can show.
pub fn check_name(name: &str) -> Result<(), UsersError> {
    let ok = !name.is_empty() && name.len() <= 255 && !name.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(UsersError::BadName(name.to_string()))
    }
}

/// The argon2id PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &[u8]) -> Result<String, UsersError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password, &salt).map(|h| h.to_string()).map_err(|e| UsersError::Hash(e.to_string()))
}

/// Appends `name` with `hash` to the users file (created when missing); an existing name is
/// refused, the file is never rewritten.
pub fn append_user(path: &Path, name: &str, hash: &str) -> Result<(), UsersError> {
    check_name(name)?;
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Users::parse(&text).map_err(|reason| UsersError::Invalid { path: path.into(), reason })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Users::parse("").expect("empty file"),
        Err(source) => return Err(UsersError::Read { path: path.into(), source }),
    };
    if existing.hashes.contains_key(name) {
        return Err(UsersError::Exists(name.to_string()));
    }
    let entry = format!("\n[[user]]\nname = {}\nhash = {}\n", toml_string(name), toml_string(hash));
    let write = |source| UsersError::Write { path: path.into(), source };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(write)?;
    file.write_all(entry.as_bytes()).and_then(|_| file.sync_all()).map_err(write)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_then_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        append_user(&path, "alice", &hash_password(b"s3cret").unwrap()).unwrap();
        append_user(&path, "bob@example.com", &hash_password(b"other").unwrap()).unwrap();
        assert!(matches!(append_user(&path, "alice", "x"), Err(UsersError::Exists(_))));
        assert!(matches!(append_user(&path, "a b", "x"), Err(UsersError::BadName(_))));
        let users = Users::load(&path).unwrap();
        assert_eq!(users.len(), 2);
        assert!(users.verify("alice", b"s3cret"));
        assert!(!users.verify("alice", b"S3cret"));
        assert!(users.verify("bob@example.com", b"other"));
        assert!(!users.verify("carol", b"s3cret"));
    }

    #[test]
    fn bad_files_name_the_entry() {
        let cases: &[(&str, &str)] = &[
            ("[[user]]\nname = \"a\"\n", "missing field `hash`"),
            ("[[user]]\nname = \"a\"\nhash = \"plain\"\n", "user[0].hash: not a PHC hash string"),
            (
                "[[user]]\nname = \"a\"\nhash = \"$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\n",
                "user[0].hash: pbkdf2-sha256 is not an argon2 hash",
            ),
            ("[[user]]\nname = \"\"\nhash = \"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA\"\n", "user[0]: invalid"),
            ("[[user]]\nname = \"a\"\nhash = \"h\"\nrole = 1\n", "unknown field `role`"),
            ("user = 3\n", "invalid type"),
        ];
        for (text, want) in cases {
            let err = Users::parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        assert!(Users::parse("").unwrap().is_empty());
    }
}
