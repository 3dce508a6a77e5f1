//! Retries, expiration, delay notices, Badmail and masquerading, end to end with short
//! intervals.

mod common;

use common::sink::{self, Behaviour, Sink};
use common::{config, unique_ip, wait_until, Tern};
use std::time::Duration;
use tern::dns::{Responder, Zone};

fn send(tern: &Tern, from: &str, to: &str) {
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let reply = smtp.send_message(from, &[to], "Subject: retry\r\n\r\nretry me\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
}

/// An address on loopback where nothing listens.
fn dead_addr() -> std::net::SocketAddr {
    let ip = unique_ip();
    format!("{ip}:{}", common::free_port(&ip)).parse().unwrap()
}

#[test]
fn temporary_failures_are_retried_until_delivered() {
    let sink = Sink::start(&unique_ip(), 0, Behaviour { tempfail_first: 2, ..Behaviour::default() });
    let dns = Responder::start(Zone::default()).unwrap();
    let mut tern = Tern::start(&config(1, &sink::routed(&dns, sink.addr, "")));
    send(&tern, "a@sender.test", "x@far.test");
    wait_until(Duration::from_secs(20), || sink.count() == 1, || "delivered after two 451s".into());
    assert_eq!(sink.record.lock().unwrap().tempfailed, 2);
    assert!(tern.metric("tern_messages_deferred_total") >= 2.0);
    tern.wait_metric("tern_queue_messages", 0.0);
    assert_eq!(tern.metric("tern_ndr_total"), 0.0);
    // Retry state and queue survive a restart: nothing is left to send.
    tern.kill9();
    tern.restart();
    tern.wait_metric("tern_queue_messages", 0.0);
}

#[test]
fn expiration_bounces_with_5_4_7_after_a_delay_notice() {
    let dns = Responder::start(Zone::default()).unwrap();
    let tern =
        Tern::start(&config(1, &sink::routed(&dns, dead_addr(), "expiration = \"4s\"\ndelay_notification = \"1s\"")));
    send(&tern, "alice@tern.test", "x@far.test");
    wait_until(
        Duration::from_secs(30),
        || tern.drop_files().len() == 2,
        || format!("{} notices for alice", tern.drop_files().len()),
    );
    let notices: Vec<String> = tern.drop_files().iter().map(|p| common::read(p)).collect();
    let delayed = notices.iter().find(|n| n.contains("Action: delayed")).expect("one delay notice");
    assert!(delayed.contains("Final-Recipient: rfc822; x@far.test"), "{delayed}");
    let failed = notices.iter().find(|n| n.contains("Action: failed")).expect("the NDR");
    assert!(failed.contains("Status: 5.4.7"), "{failed}");
    assert!(failed.starts_with("X-Sender: <>\r\nX-Receiver: alice@tern.test\r\n"), "{failed}");
    tern.wait_metric("tern_queue_messages", 0.0);
    assert_eq!(tern.metric("tern_ndr_total"), 1.0);
}

#[test]
fn a_failing_message_from_the_null_sender_goes_to_badmail_not_to_an_ndr() {
    let sink =
        Sink::start(&unique_ip(), 0, Behaviour { unknown: vec!["nobody@far.test".into()], ..Behaviour::default() });
    let dns = Responder::start(Zone::default()).unwrap();
    let tern = Tern::start(&config(1, &sink::routed(&dns, sink.addr, "")));
    send(&tern, "", "nobody@far.test");
    let badmail = tern.data().join("badmail");
    wait_until(Duration::from_secs(20), || tern.metric("tern_badmail_total") == 1.0, || "badmail".into());
    let files: Vec<String> =
        std::fs::read_dir(&badmail).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(files.iter().any(|f| f.ends_with(".bad")), "{files:?}");
    let reason = files.iter().find(|f| f.ends_with(".bdr")).expect("a reason file");
    let reason = common::read(&badmail.join(reason));
    assert!(reason.contains("nobody@far.test: 5.1.1"), "{reason}");
    assert_eq!(tern.metric("tern_ndr_total"), 0.0);
    tern.wait_metric("tern_queue_messages", 0.0);
    assert!(tern.drop_files().is_empty(), "no NDR anywhere");
}

#[test]
fn the_masquerade_domain_replaces_a_local_sender_domain() {
    let sink = Sink::start(&unique_ip(), 0, Behaviour::default());
    let dns = Responder::start(Zone::default()).unwrap();
    let tern = Tern::start(&config(1, &sink::routed(&dns, sink.addr, "masquerade_domain = \"masq.test\"")));
    send(&tern, "alice@tern.test", "x@far.test");
    send(&tern, "bob@elsewhere.test", "y@far.test");
    wait_until(Duration::from_secs(20), || sink.count() == 2, || "two delivered".into());
    let mut froms: Vec<String> = sink.messages().iter().map(|m| m.from.clone()).collect();
    froms.sort();
    assert_eq!(froms, ["alice@masq.test", "bob@elsewhere.test"]);
}
