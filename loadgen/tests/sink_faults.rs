//! The sink's fault injection, seen from the client: a 452 after two recipients leaves each
//! message with two, and a permanent failure rate of 1 refuses every message.

mod common;

use std::process::Command;

use common::SinkProcess;

use tern_loadgen::report::Report;

fn run(faults: &[&str], recipients: &str) -> (Report, Report) {
    let sink = SinkProcess::start(faults);
    let send = Command::new(common::loadgen())
        .args([
            "send",
            "--json",
            "--target",
            &sink.addr,
            "--messages",
            "40",
            "--sessions",
            "2",
            "--recipients",
            recipients,
        ])
        .output()
        .unwrap();
    (serde_json::from_slice(&send.stdout).unwrap(), sink.stop())
}

#[test]
fn recipient_limit_and_permanent_failures_are_injected() {
    let (client, sink) = run(&["--max-recipients", "2"], "3");
    assert_eq!(client.client.unwrap().accepted, 40);
    let s = sink.sink.unwrap();
    assert_eq!((s.messages, s.recipients, s.rcpt_limited), (40, 80, 40));

    let (client, sink) = run(&["--permfail-rate", "1"], "1");
    let c = client.client.unwrap();
    assert_eq!((c.accepted, c.refused), (0, 40));
    let s = sink.sink.unwrap();
    assert_eq!((s.messages, s.permfails), (0, 40));
}
