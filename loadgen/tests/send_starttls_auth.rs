//! `send` with STARTTLS and AUTH PLAIN, without pipelining, into a sink that offers TLS: every
//! session upgrades and authenticates and every message arrives; a sink that does not offer
//! STARTTLS gets no message from a client that requires it.

mod common;

use std::process::{Command, Stdio};

use tern_loadgen::report::Report;

fn run(sink_args: &[&str]) -> (Report, Report) {
    let ip = format!("127.{}.{}.{}", fastrand::u8(1..=250), fastrand::u8(..), fastrand::u8(2..250));
    let port = std::net::TcpListener::bind((ip.as_str(), 0)).unwrap().local_addr().unwrap().port();
    let addr = format!("{ip}:{port}");
    let sink = Command::new(common::loadgen())
        .args(["sink", "--json", "--tls", "--listen", &addr])
        .args(sink_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let send = Command::new(common::loadgen())
        .args(["send", "--json", "--target", &addr, "--messages", "60", "--sessions", "3", "--recipients", "2"])
        .args(["--starttls", "--auth", "user:secret", "--no-pipelining", "--messages-per-connection", "10"])
        .args(["--duration", "3s"])
        .output()
        .unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(sink.id() as i32, libc::SIGTERM) };
    let out = sink.wait_with_output().unwrap();
    (serde_json::from_slice(&send.stdout).unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn sessions_upgrade_and_authenticate() {
    let (client, sink) = run(&[]);
    assert_eq!(client.client.unwrap().accepted, 60);
    let s = sink.sink.unwrap();
    assert_eq!((s.messages, s.recipients), (60, 120));
    // One connection was the test's readiness probe.
    assert_eq!(s.tls_sessions, s.connections - 1, "every client connection used TLS");
    assert_eq!(s.auths, s.connections - 1, "every client connection authenticated");
    assert!(s.connections >= 6, "at most 10 messages per connection: {}", s.connections);
}

#[test]
fn no_starttls_means_no_mail_for_a_client_that_requires_it() {
    let (client, sink) = run(&["--no-starttls"]);
    let c = client.client.unwrap();
    assert_eq!(c.accepted, 0);
    assert!(c.errors > 0);
    assert_eq!(sink.sink.unwrap().messages, 0);
}
