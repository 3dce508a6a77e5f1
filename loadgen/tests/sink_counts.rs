//! The sink's counters against a known client load: `send` delivers 300 messages with 3
//! recipients each over connections of at most 25 messages; the sink reports exactly that.

mod common;

use std::process::Command;

use common::SinkProcess;

use tern_loadgen::report::Report;

#[test]
fn the_sink_counts_exactly_what_the_client_sent() {
    let sink = SinkProcess::start(&[]);
    let send = Command::new(common::loadgen())
        .args(["send", "--json", "--target", &sink.addr, "--messages", "300", "--recipients", "3", "--sessions", "4"])
        .args(["--messages-per-connection", "25", "--size", "1KB-8KB"])
        .output()
        .unwrap();
    assert!(send.status.success(), "{}", String::from_utf8_lossy(&send.stderr));
    let sent: Report = serde_json::from_slice(&send.stdout).unwrap();
    let got = sink.stop();
    let client = sent.client.unwrap();
    assert_eq!((client.accepted, client.refused), (300, 0));
    let s = got.sink.unwrap();
    assert_eq!((s.messages, s.recipients, s.foreign), (300, 900, 0));
    assert!(s.max_messages_per_connection <= 25 && s.max_messages_per_connection > 1, "{s:?}");
    let carried: u64 = s.messages_per_connection.iter().map(|(n, c)| n * c).sum();
    let connections: u64 = s.messages_per_connection.iter().map(|(_, c)| c).sum();
    assert_eq!(carried, 300, "{:?}", s.messages_per_connection);
    assert_eq!(connections, s.connections);
    assert!((12..=16).contains(&s.connections), "300 messages at most 25 each over 4 sessions: {}", s.connections);
    assert!(s.max_open <= 4 && s.max_open >= 1);
    assert_eq!(got.delivery.unwrap().e2e_latency_us.count, 300);
}
