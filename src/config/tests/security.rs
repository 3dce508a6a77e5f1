//! `[tls]` and `[auth]`: defaults, per-virtual-server overrides, and file checks with key paths.

use std::path::{Path, PathBuf};

use super::{assert_error, parse};
use crate::security::{generate_self_signed, hash_password};

/// A directory with `cert.pem`, `key.pem`, `other-key.pem`, `users.toml` and `bad-users.toml`.
fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = generate_self_signed("mx.example.test").unwrap();
    let (_, other) = generate_self_signed("other.example.test").unwrap();
    let users = format!("[[user]]\nname = \"alice\"\nhash = \"{}\"\n", hash_password(b"pw").unwrap());
    for (name, text) in [
        ("cert.pem", cert.as_str()),
        ("key.pem", &key),
        ("other-key.pem", &other),
        ("users.toml", &users),
        ("bad-users.toml", "[[user]]\nname = \"bob\"\n"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn site_values_and_virtual_server_overrides() {
    let dir = files();
    let d = dir.path();
    let text = format!(
        r#"
        [tls]
        certificate = "{cert}"
        key = "{key}"
        [auth]
        users = "{users}"
        [[virtual_server]]
        name = "open"
        bind = ["192.0.2.1:25"]
        [[virtual_server]]
        name = "strict"
        bind = ["192.0.2.2:25"]
        tls = {{ require = true }}
        auth = {{ anonymous = false, require_tls_for_basic = false }}
        "#,
        cert = p(d, "cert.pem"),
        key = p(d, "key.pem"),
        users = p(d, "users.toml"),
    );
    let config = parse(&text).unwrap();
    let [open, strict] = &config.virtual_servers[..] else { panic!("two servers") };
    assert_eq!(open.tls.certificate, Some(PathBuf::from(p(d, "cert.pem"))));
    assert!(!open.tls.require);
    assert!(open.auth.anonymous && open.auth.basic && open.auth.require_tls_for_basic);
    assert_eq!(strict.tls.key, Some(PathBuf::from(p(d, "key.pem"))), "site value kept");
    assert!(strict.tls.require);
    assert!(!strict.auth.anonymous && !strict.auth.require_tls_for_basic);
    assert_eq!(strict.auth.users, open.auth.users);
}

#[test]
fn file_problems_have_key_paths() {
    let dir = files();
    let d = dir.path();
    let vs = "[[virtual_server]]\nname = \"a\"\nbind = [\"192.0.2.1:25\"]\n";
    let cases: Vec<(String, &str, &str)> = vec![
        (format!("[tls]\ncertificate = \"{}\"", p(d, "cert.pem")), "tls.key", "missing"),
        (format!("[tls]\nkey = \"{}\"", p(d, "key.pem")), "tls.certificate", "missing"),
        (
            format!("[tls]\ncertificate = \"{}\"\nkey = \"{}\"", p(d, "none.pem"), p(d, "key.pem")),
            "tls.certificate",
            "cannot read",
        ),
        (
            format!("[tls]\ncertificate = \"{}\"\nkey = \"{}\"", p(d, "cert.pem"), p(d, "other-key.pem")),
            "tls.key",
            "do not go together",
        ),
        (
            format!("{vs}[virtual_server.tls]\ncertificate = \"{}\"\nkey = \"{}\"", p(d, "key.pem"), p(d, "key.pem")),
            "virtual_server[0].tls.certificate",
            "no CERTIFICATE",
        ),
        ("[tls]\nrequire = true".into(), "tls.require", "needs a certificate"),
        ("[tls]\nrequire = 1".into(), "tls.require", "true or false"),
        ("[tls]\ncertificate = \"\"".into(), "tls.certificate", "empty"),
        (format!("[auth]\nusers = \"{}\"", p(d, "bad-users.toml")), "auth.users", "missing field `hash`"),
        (format!("[auth]\nusers = \"{}\"", p(d, "none.toml")), "auth.users", "cannot read"),
        ("[auth]\nanonymous = false".into(), "auth.anonymous", "nobody could send mail"),
        (
            format!("[auth]\nanonymous = false\nusers = \"{}\"", p(d, "users.toml")),
            "auth.anonymous",
            "needs a [tls] certificate",
        ),
        (
            format!("{vs}[virtual_server.auth]\nanonymous = false\nusers = \"{}\"", p(d, "users.toml")),
            "virtual_server[0].auth.anonymous",
            "needs a [tls] certificate",
        ),
        (format!("{vs}[virtual_server.auth]\nbasic = \"yes\""), "virtual_server[0].auth.basic", "true or false"),
        ("[auth]\npassword = \"x\"".into(), "auth.password", "unknown key"),
    ];
    for (text, path, reason) in cases {
        assert_error(&text, path, reason);
    }
}
