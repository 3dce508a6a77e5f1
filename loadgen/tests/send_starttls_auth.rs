//! `send` with STARTTLS and AUTH PLAIN, without pipelining, into a sink that offers TLS: every
//! session upgrades and authenticates and every message arrives; a sink that does not offer
//! STARTTLS gets no message from a client that requires it.

mod common;

use std::process::Command;

use common::SinkProcess;

use tern_loadgen::report::Report;

fn run(sink_args: &[&str]) -> (Report, Report) {
    let sink = SinkProcess::start(&[&["--tls"], sink_args].concat());
    let send = Command::new(common::loadgen())
        .args(["send", "--json", "--target", &sink.addr, "--messages", "60", "--sessions", "3", "--recipients", "2"])
        .args(["--starttls", "--auth", "user:secret", "--no-pipelining", "--messages-per-connection", "10"])
        .output()
        .unwrap();
    (serde_json::from_slice(&send.stdout).unwrap(), sink.stop())
}

#[test]
fn sessions_upgrade_and_authenticate() {
    let (client, sink) = run(&[]);
    assert_eq!(client.client.unwrap().accepted, 60);
    let s = sink.sink.unwrap();
    assert_eq!((s.messages, s.recipients), (60, 120));
    assert_eq!(s.tls_sessions, s.connections, "every client connection used TLS: {s:?}");
    assert_eq!(s.auths, s.connections, "every client connection authenticated: {s:?}");
    assert!(s.connections >= 6, "at most 10 messages per connection: {s:?}");
}

#[test]
fn no_starttls_means_no_mail_for_a_client_that_requires_it() {
    let (client, sink) = run(&["--no-starttls"]);
    let c = client.client.unwrap();
    assert_eq!(c.accepted, 0);
    assert!(c.errors > 0);
    assert_eq!(sink.sink.unwrap().messages, 0);
}
