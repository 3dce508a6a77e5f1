//! Opening the certificates and users files of the virtual servers once for all shards, and
//! reloading them in place on SIGHUP (open sessions keep what they started with).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use signal_hook::iterator::Signals;

use super::start::RuntimeError;
use crate::config::Config;
use crate::inbound::VsSecurity;
use crate::security::{open_tls, open_users, TlsConfig, UsersFile};

/// One [`VsSecurity`] per virtual server; virtual servers naming the same files share them.
pub fn open_security(config: &Config) -> Result<Vec<VsSecurity>, RuntimeError> {
    let mut certs: HashMap<(PathBuf, PathBuf), Arc<TlsConfig>> = HashMap::new();
    let mut users: HashMap<PathBuf, Arc<UsersFile>> = HashMap::new();
    let mut out = Vec::new();
    for (i, vs) in config.virtual_servers.iter().enumerate() {
        let failed = |reason: String| RuntimeError::Security(format!("virtual_server[{i}]: {reason}"));
        let tls = match (&vs.tls.certificate, &vs.tls.key) {
            (Some(c), Some(k)) => Some(match certs.get(&(c.clone(), k.clone())) {
                Some(tls) => tls.clone(),
                None => {
                    let tls = Arc::new(open_tls(c, k).map_err(failed)?);
                    certs.insert((c.clone(), k.clone()), tls.clone());
                    tls
                }
            }),
            _ => None,
        };
        let file = match &vs.auth.users {
            Some(path) => Some(match users.get(path) {
                Some(file) => file.clone(),
                None => {
                    let file = Arc::new(open_users(path).map_err(failed)?);
                    users.insert(path.clone(), file.clone());
                    file
                }
            }),
            None => None,
        };
        out.push(VsSecurity { tls, users: file });
    }
    Ok(out)
}

/// Starts the thread that reloads every certificate and users file on SIGHUP; a file that
/// fails to load is logged and its previous contents stay in use.
pub fn reload_on_sighup(security: &[VsSecurity]) -> Result<(), RuntimeError> {
    let mut certs: Vec<Arc<TlsConfig>> = Vec::new();
    let mut users: Vec<Arc<UsersFile>> = Vec::new();
    for s in security {
        if let Some(tls) = s.tls.as_ref().filter(|t| !certs.iter().any(|c| Arc::ptr_eq(c, t))) {
            certs.push(tls.clone());
        }
        if let Some(file) = s.users.as_ref().filter(|f| !users.iter().any(|u| Arc::ptr_eq(u, f))) {
            users.push(file.clone());
        }
    }
    let mut signals = Signals::new([signal_hook::consts::SIGHUP]).map_err(RuntimeError::Signals)?;
    std::thread::Builder::new()
        .name("tern-reload".into())
        .spawn(move || {
            for _ in signals.forever() {
                tracing::info!("SIGHUP: reloading certificates and users files");
                for tls in &certs {
                    log_reload(tls.paths(), tls.reload());
                }
                for file in &users {
                    log_reload(file.paths(), file.reload());
                }
            }
        })
        .map(|_| ())
        .map_err(RuntimeError::Signals)
}

fn log_reload(paths: &[PathBuf], result: Result<(), String>) {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    match result {
        Ok(()) => tracing::info!("reloaded {}", names.join(" and ")),
        Err(e) => tracing::error!("reload failed, keeping the previous version: {e}"),
    }
}
