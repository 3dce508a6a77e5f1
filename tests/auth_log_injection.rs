//! The user name of a failed AUTH is the client's, unchecked: it is logged quoted and escaped,
//! so a CR/LF in it cannot forge a log line (say, a fake "authenticated" record).

mod common;

use base64::Engine;
use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, wait_until, Tern};
use std::time::Duration;

#[test]
fn a_failed_login_name_cannot_forge_log_lines() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, _pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let toml = security_toml(&cert, &key, Some(&users), "", "require_tls_for_basic = false");
    let tern = Tern::start(&base_config(&toml));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let forged = "x\nFORGED  INFO tern::inbound::auth: authenticated user=root";
    let b64 = base64::engine::general_purpose::STANDARD;
    smtp.cmd("AUTH LOGIN", 334);
    smtp.cmd(&b64.encode(forged), 334);
    smtp.cmd(&b64.encode("wrong"), 535);
    smtp.cmd("QUIT", 221);
    wait_until(Duration::from_secs(30), || tern.log().contains("authentication failed"), || tern.log());
    let log = tern.log();
    let forged_line = log.lines().any(|l| l.starts_with("FORGED"));
    assert!(!forged_line, "a client-supplied user name started a log line of its own:\n{log}");
}
