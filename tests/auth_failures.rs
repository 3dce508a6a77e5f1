//! Wrong credentials: `535 5.7.8` after a delay that grows (1 s, then 2 s), and after the third
//! failure `421 4.7.0` and the connection is closed. Unknown names fail the same way.

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};
use std::time::{Duration, Instant};

#[test]
fn failures_are_slowed_down_then_disconnected() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    let start = Instant::now();
    assert_eq!(smtp.cmd("AUTH PLAIN AGFsaWNlAHdyb25n", 535), "535 5.7.8 Authentication credentials invalid");
    let first = start.elapsed();
    assert!(first >= Duration::from_millis(950), "the first failure waits about 1 s: {first:?}");
    let start = Instant::now();
    smtp.cmd("AUTH PLAIN AG1hbGxvcnkAcHcx", 535);
    let second = start.elapsed();
    assert!(second >= Duration::from_millis(1950), "the second waits about 2 s: {second:?}");
    smtp.cmd("AUTH LOGIN", 334);
    smtp.cmd("YWxpY2U=", 334);
    let reply = smtp.cmd("d3Jvbmc=", 421);
    assert!(reply.starts_with("421 4.7.0 "), "{reply}");
    assert!(smtp.is_closed());
    tern.wait_metric("tern_auth_total{virtual_server=\"main\",result=\"failure\"}", 3.0);
    let mut again = tern.connect();
    again.cmd("QUIT", 221);
}
