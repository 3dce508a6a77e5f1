//! `[tls]` and `[auth]`, site-wide and per virtual server: the keys, their defaults, and the
//! checks that the certificate, key and users file load.

use std::path::{Path, PathBuf};

use super::reader::{boolean, text, Reason, Section};
use super::{Auth, Tls};
use crate::security::{load_server_config, CertError, Users};

impl Default for Auth {
    fn default() -> Self {
        Auth { anonymous: true, basic: true, users: None, require_tls_for_basic: true }
    }
}

/// `base` with the keys present in `sec` replaced. The files are checked when this section
/// names one of them (an inherited file was checked where it was set).
pub(super) fn tls(sec: &mut Section, base: &Tls) -> Tls {
    let certificate = sec.get("certificate", text(file_path));
    let key = sec.get("key", text(file_path));
    let changed = certificate.is_some() || key.is_some();
    let tls = Tls {
        certificate: certificate.or_else(|| base.certificate.clone()),
        key: key.or_else(|| base.key.clone()),
        require: sec.get("require", boolean).unwrap_or(base.require),
    };
    match (&tls.certificate, &tls.key) {
        (Some(_), None) => sec.error("key", "missing: certificate is set, key is not"),
        (None, Some(_)) => sec.error("certificate", "missing: key is set, certificate is not"),
        (Some(c), Some(k)) if changed => check_pair(sec, c, k),
        _ => {}
    }
    if tls.require && tls.certificate.is_none() && sec.has("require") {
        sec.error("require", "require = true needs a certificate and key");
    }
    tls
}

fn check_pair(sec: &Section, certificate: &Path, key: &Path) {
    match load_server_config(certificate, key) {
        Ok(_) => {}
        Err(e @ (CertError::Chain { .. } | CertError::EmptyChain { .. })) => sec.error("certificate", e.to_string()),
        Err(e) => sec.error("key", e.to_string()),
    }
}

/// `base` with the keys present in `sec` replaced; the users file is checked where it is set.
pub(super) fn auth(sec: &mut Section, base: &Auth) -> Auth {
    let users = sec.get("users", text(file_path));
    if let Some(path) = &users {
        if let Err(e) = Users::load(path) {
            sec.error("users", e.to_string());
        }
    }
    let auth = Auth {
        anonymous: sec.get("anonymous", boolean).unwrap_or(base.anonymous),
        basic: sec.get("basic", boolean).unwrap_or(base.basic),
        users: users.or_else(|| base.users.clone()),
        require_tls_for_basic: sec.get("require_tls_for_basic", boolean).unwrap_or(base.require_tls_for_basic),
    };
    let can_auth = auth.basic && auth.users.is_some();
    let nobody = !auth.anonymous && !can_auth;
    if nobody && (sec.has("anonymous") || sec.has("basic") || sec.has("users")) {
        sec.error("anonymous", "anonymous = false needs basic = true and a users file, or nobody could send mail");
    }
    auth
}

/// `anonymous = false` with AUTH allowed only over TLS needs a certificate, or nobody could
/// send mail (AUTH would always get 538, MAIL always 530).
pub(super) fn auth_without_tls(auth: &Auth, tls: &Tls) -> Option<&'static str> {
    (!auth.anonymous && auth.require_tls_for_basic && tls.certificate.is_none()).then_some(
        "anonymous = false with require_tls_for_basic = true needs a [tls] certificate and key, or nobody could send mail",
    )
}

fn file_path(path: &str) -> Result<PathBuf, Reason> {
    if path.is_empty() {
        return Err("expected a file path, got an empty string".into());
    }
    Ok(PathBuf::from(path))
}
