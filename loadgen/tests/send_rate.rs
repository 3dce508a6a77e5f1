//! `send --rate` paces the load open loop: message n is not started before n/rate seconds,
//! however fast the server answers, and every message still arrives.

mod common;

use std::process::Command;

use common::SinkProcess;

use tern_loadgen::report::Report;

#[test]
fn a_paced_run_is_never_ahead_of_its_schedule() {
    let sink = SinkProcess::start(&[]);
    let send = Command::new(common::loadgen())
        .args(["send", "--json", "--target", &sink.addr, "--messages", "100", "--sessions", "4"])
        .args(["--rate", "200"])
        .output()
        .unwrap();
    assert!(send.status.success(), "{}", String::from_utf8_lossy(&send.stderr));
    let sent: Report = serde_json::from_slice(&send.stdout).unwrap();
    let got = sink.stop();
    assert_eq!(sent.client.unwrap().accepted, 100);
    assert_eq!(sent.scenario.rate_per_s, Some(200.0));
    // Message 99 is due 495 ms after the start; unpaced, 100 messages take a few ms.
    assert!(sent.elapsed_s >= 0.495, "finished ahead of the schedule: {} s", sent.elapsed_s);
    assert_eq!(got.sink.unwrap().messages, 100);
}

#[test]
fn a_rate_must_be_a_positive_number() {
    for bad in ["0", "-0.5", "fast", "inf"] {
        let out = Command::new(common::loadgen())
            .args(["send", "--target", "127.0.0.1:9"])
            .arg(format!("--rate={bad}"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--rate {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("messages per second"), "--rate {bad}");
    }
}
