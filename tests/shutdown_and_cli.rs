//! SIGTERM stops tern cleanly (idle sessions get 421, exit 0); `check-config` prints every
//! problem with its key path; `serve` refuses a bad file.

mod common;

use common::{base_config, Tern};
use std::process::Command;
use std::time::Duration;

#[test]
fn sigterm_says_goodbye_to_idle_sessions_and_exits_zero() {
    let mut tern = Tern::start(&base_config(""));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    let reader = std::thread::spawn(move || {
        let reply = smtp.read_reply();
        (reply, smtp.is_closed())
    });
    assert_eq!(tern.terminate(Duration::from_secs(15)), Some(0));
    let (reply, closed) = reader.join().unwrap();
    assert!(reply.starts_with("421 4.3.2 "), "{reply}");
    assert!(closed);
    assert!(tern.log().contains("stopped"), "{}", tern.log());
}

#[test]
fn check_config_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[limits]\nmax_message_size = \"20MB\"\nmax_session_size = \"1MB\"\nmax_recipients = \"many\"\n\
         [server]\nbogus = 1\n[tls]\ncertificate = \"/x.pem\"\n[logging]\nenabled = true\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern")).args(["check-config", "--config"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in
        ["limits.max_session_size", "limits.max_recipients", "server.bogus", "tls.key", "logging", "not supported yet"]
    {
        assert!(stdout.contains(expected), "missing {expected} in:\n{stdout}");
    }
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[server]\ndefault_domain = \"example.com\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tern")).args(["check-config", "--config"]).arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    let out = Command::new(env!("CARGO_BIN_EXE_tern")).args(["serve", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("limits.max_session_size"));
}
