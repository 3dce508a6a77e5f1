//! With `[tls].require = true`, AUTH is not advertised before STARTTLS even when
//! `require_tls_for_basic = false`: it would be refused (530), and a client that sees AUTH
//! tries it first (RFC 4954 §3: the keyword lists what the client may use now).

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};

#[test]
fn auth_is_not_advertised_when_the_tls_gate_would_refuse_it() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, _pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let toml = security_toml(&cert, &key, Some(&users), "require = true", "require_tls_for_basic = false");
    let tern = Tern::start(&base_config(&toml));
    let mut smtp = tern.connect();
    let ehlo = smtp.cmd("EHLO client.test", 250);
    let auth = smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 530);
    assert!(!ehlo.contains("AUTH "), "advertised {ehlo:?} but AUTH got {auth:?}");
}
