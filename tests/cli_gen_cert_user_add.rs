//! `tern gen-cert` writes a loadable self-signed pair; `tern user add` appends an argon2 hash
//! of the password read from standard input (to `--users` or the `auth.users` of `--config`),
//! refuses a name twice; `check-config` names a broken certificate by its key path.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tern::security::{load_server_config, Users};

fn tern(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn gen_cert_user_add_and_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let done = tern(&["gen-cert", "--name", "mx.example.test", "--out", out.to_str().unwrap()], "");
    assert!(done.status.success(), "{done:?}");
    let (cert, key) = (out.join("cert.pem"), out.join("key.pem"));
    load_server_config(&cert, &key).expect("the pair loads");

    let users = dir.path().join("users.toml");
    let done = tern(&["user", "add", "alice", "--users", users.to_str().unwrap()], "s3cret\n");
    assert!(done.status.success(), "{done:?}");
    let twice = tern(&["user", "add", "alice", "--users", users.to_str().unwrap()], "other\n");
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already exists"), "{twice:?}");
    let empty = tern(&["user", "add", "carol", "--users", users.to_str().unwrap()], "\n");
    assert!(!empty.status.success(), "empty passwords are refused");

    let config = dir.path().join("tern.toml");
    let text = format!(
        "[tls]\ncertificate = {:?}\nkey = {:?}\n[auth]\nusers = {:?}\n",
        cert.display().to_string(),
        key.display().to_string(),
        users.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    let done = tern(&["user", "add", "bob", "--config", config.to_str().unwrap()], "pw-bob\r\n");
    assert!(done.status.success(), "{done:?}");
    let table = Users::load(&users).unwrap();
    assert_eq!(table.len(), 2);
    assert!(table.verify("alice", b"s3cret") && table.verify("bob", b"pw-bob"));
    assert!(!table.verify("alice", b"other"));
    let checked = tern(&["check-config", "--config", config.to_str().unwrap()], "");
    assert!(checked.status.success(), "{checked:?}");

    std::fs::write(&cert, "garbage").unwrap();
    let checked = tern(&["check-config", "--config", config.to_str().unwrap()], "");
    assert!(!checked.status.success());
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(stdout.contains("tls.certificate: ") && stdout.contains("no CERTIFICATE"), "{stdout}");
}
