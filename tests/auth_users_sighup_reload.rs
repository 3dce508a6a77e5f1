//! SIGHUP reloads the users file: a user added after start can authenticate, a removed one no
//! longer can, and a broken file keeps the last good table.

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, wait_until, Tern};
use std::time::Duration;

fn auth(tern: &Tern, pem: &str, b64: &str, code: u16) {
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.starttls(&[pem]);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd(&format!("AUTH PLAIN {b64}"), code);
}

const ALICE: &str = "AGFsaWNlAHB3MQ=="; // \0alice\0pw1
const BOB: &str = "AGJvYgBwdzI="; // \0bob\0pw2

#[test]
fn sighup_reloads_the_users_file() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "", "")));
    auth(&tern, &pem, ALICE, 235);
    auth(&tern, &pem, BOB, 535);

    let next = tempfile::tempdir().unwrap();
    let fresh = write_users(next.path(), &[("bob", "pw2")]);
    std::fs::rename(&fresh, &users).unwrap();
    tern.signal(libc::SIGHUP);
    wait_until(
        Duration::from_secs(60),
        || tern.log().lines().any(|l| l.contains("reloaded") && l.contains("users.toml")),
        || tern.log(),
    );
    auth(&tern, &pem, BOB, 235);
    auth(&tern, &pem, ALICE, 535);

    std::fs::write(&users, "[[user]]\nname = 1\n").unwrap();
    tern.signal(libc::SIGHUP);
    wait_until(Duration::from_secs(60), || tern.log().contains("reload failed"), || tern.log());
    auth(&tern, &pem, BOB, 235);
}
