//! `[limits]` end to end: connection cap, idle timeout, message size (SIZE= and body),
//! session size, recipients per message.

mod common;

use common::{base_config, Smtp, Tern};
use std::time::{Duration, Instant};

#[test]
fn connections_over_the_cap_get_421_and_are_closed() {
    let tern = Tern::start(&base_config("[limits]\ninbound_connections = 2\n"));
    // The harness's start-up probe must have been closed on the server side first.
    tern.wait_metric("tern_connections_inbound_current{virtual_server=\"main\"}", 0.0);
    let mut a = tern.connect();
    let mut b = tern.connect();
    let mut c = Smtp::connect_raw(tern.addr());
    assert!(c.read_reply().starts_with("421 4.7.0 "));
    assert!(c.is_closed());
    let refused = "tern_connections_refused_total{virtual_server=\"main\",reason=\"connection_limit\"}";
    assert_eq!(tern.metric(refused), 1.0);
    a.cmd("QUIT", 221);
    assert!(a.is_closed());
    common::wait_until(
        Duration::from_secs(30),
        || tern.metric("tern_connections_inbound_current{virtual_server=\"main\"}") == 1.0,
        || "connection count".into(),
    );
    let mut d = tern.connect();
    d.cmd("NOOP", 250);
    b.cmd("NOOP", 250);
}

#[test]
fn an_idle_client_gets_421_and_is_closed_after_the_timeout() {
    let tern = Tern::start(&base_config("[limits]\nconnection_timeout = \"1s\"\n"));
    let mut smtp = tern.connect();
    let start = Instant::now();
    smtp.cmd("EHLO a.test", 250);
    assert!(smtp.read_reply().starts_with("421 4.4.2 "));
    assert!(smtp.is_closed());
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[test]
fn message_size_is_enforced_at_mail_and_after_the_data() {
    let tern = Tern::start(&base_config("[limits]\nmax_message_size = \"1KB\"\n"));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    assert!(smtp.cmd("MAIL FROM:<a@a.test> SIZE=1025", 552).starts_with("552 5.3.4 "));
    smtp.cmd("MAIL FROM:<a@a.test> SIZE=1024", 250);
    smtp.cmd("RCPT TO:<x@tern.test>", 250);
    smtp.cmd("DATA", 354);
    let line = format!("{}\r\n", "z".repeat(98));
    smtp.send(line.repeat(20));
    smtp.send(".\r\n");
    assert!(smtp.read_reply().starts_with("552 5.3.4 "));
    let small = "Subject: ok\r\n\r\nfits\r\n";
    assert!(smtp.send_message("a@a.test", &["x@tern.test"], small).starts_with("250 "));
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"size\"}"), 2.0);
    assert_eq!(tern.metric("tern_messages_received_total{virtual_server=\"main\"}"), 1.0);
    tern.wait_metric("tern_drop_deliveries_total{virtual_server=\"main\"}", 1.0);
    assert_eq!(tern.drop_files().len(), 1, "the oversized message was not stored");
}

#[test]
fn the_connection_is_closed_when_the_session_size_is_reached() {
    let tern = Tern::start(&base_config("[limits]\nmax_message_size = \"1KB\"\nmax_session_size = \"2KB\"\n"));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    let body = format!("Subject: s\r\n\r\n{}\r\n", "q".repeat(900));
    assert!(smtp.send_message("a@a.test", &["x@tern.test"], &body).starts_with("250 "));
    assert!(smtp.send_message("a@a.test", &["x@tern.test"], &body).starts_with("250 "));
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    smtp.cmd("RCPT TO:<x@tern.test>", 250);
    smtp.cmd("DATA", 354);
    smtp.send(format!("{body}.\r\n"));
    assert!(smtp.read_reply().starts_with("421 4.7.0 "), "3 x 919 bytes pass 2048: closed");
    assert!(smtp.is_closed());
    assert_eq!(tern.metric("tern_messages_received_total{virtual_server=\"main\"}"), 2.0);
}

#[test]
fn recipients_beyond_the_limit_get_452() {
    let tern = Tern::start(&base_config("[limits]\nmax_recipients = 3\n"));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    for i in 0..3 {
        smtp.cmd(&format!("RCPT TO:<r{i}@tern.test>"), 250);
    }
    assert_eq!(smtp.cmd("RCPT TO:<r3@tern.test>", 452), "452 4.5.3 Too many recipients");
    smtp.cmd("DATA", 354);
    smtp.send("Subject: three\r\n\r\nx\r\n.\r\n");
    assert!(smtp.read_reply().starts_with("250 "));
}
