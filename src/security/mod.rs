//! Inbound security material shared by every shard: the STARTTLS certificate and the users
//! file of `AUTH`, each loaded from disk at start and swapped in place on SIGHUP.

pub mod certs;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

pub use certs::{generate_self_signed, load_server_config, CertError};
pub use users::{hash_password, Users, UsersError};

/// A value loaded from files, shared by the shards and replaced on reload. Sessions take a
/// snapshot (`current`) once per STARTTLS or AUTH, never per command.
#[derive(Debug)]
pub struct Reloadable<T> {
    value: ArcSwap<T>,
    load: fn(&[PathBuf]) -> Result<T, String>,
    paths: Vec<PathBuf>,
}

impl<T> Reloadable<T> {
    /// Loads the value a first time; the error says which file failed and why.
    pub fn open(paths: Vec<PathBuf>, load: fn(&[PathBuf]) -> Result<T, String>) -> Result<Reloadable<T>, String> {
        let value = ArcSwap::from_pointee(load(&paths)?);
        Ok(Reloadable { value, load, paths })
    }

    pub fn current(&self) -> Arc<T> {
        self.value.load_full()
    }

    /// Loads the files again; on error the previous value stays in place.
    pub fn reload(&self) -> Result<(), String> {
        let fresh = (self.load)(&self.paths)?;
        self.value.store(Arc::new(fresh));
        Ok(())
    }

    /// The files this value is read from (for logs).
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// The rustls configuration of one certificate chain and key, reloadable.
pub type TlsConfig = Reloadable<rustls::ServerConfig>;

/// One users file, reloadable.
pub type UsersFile = Reloadable<Users>;

/// Opens `certificate` and `key` as a reloadable rustls server configuration.
pub fn open_tls(certificate: &Path, key: &Path) -> Result<TlsConfig, String> {
    Reloadable::open(vec![certificate.to_path_buf(), key.to_path_buf()], |paths| {
        load_server_config(&paths[0], &paths[1]).map_err(|e| e.to_string())
    })
}

/// Opens a users file as a reloadable table.
pub fn open_users(path: &Path) -> Result<UsersFile, String> {
    Reloadable::open(vec![path.to_path_buf()], |paths| Users::load(&paths[0]).map_err(|e| e.to_string()))
}
