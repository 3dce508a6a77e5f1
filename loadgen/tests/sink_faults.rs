//! The sink's fault injection, seen from the client: a 452 after two recipients leaves each
//! message with two, and a permanent failure rate of 1 refuses every message.

mod common;

use std::process::{Child, Command, Stdio};

use tern_loadgen::report::Report;

fn start_sink(faults: &[&str]) -> (Child, String) {
    let ip = format!("127.{}.{}.{}", fastrand::u8(1..=250), fastrand::u8(..), fastrand::u8(2..250));
    let port = std::net::TcpListener::bind((ip.as_str(), 0)).unwrap().local_addr().unwrap().port();
    let addr = format!("{ip}:{port}");
    let mut child = Command::new(common::loadgen())
        .args(["sink", "--json", "--listen", &addr])
        .args(faults)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return (child, addr);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("sink did not listen");
}

fn run(faults: &[&str], recipients: &str) -> (Report, Report) {
    let (sink, addr) = start_sink(faults);
    let send = Command::new(common::loadgen())
        .args(["send", "--json", "--target", &addr, "--messages", "40", "--sessions", "2", "--recipients", recipients])
        .output()
        .unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(sink.id() as i32, libc::SIGTERM) };
    let out = sink.wait_with_output().unwrap();
    (serde_json::from_slice(&send.stdout).unwrap(), serde_json::from_slice(&out.stdout).unwrap())
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
