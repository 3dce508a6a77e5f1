//! Outbound faults that must neither loop, nor stick, nor deliver twice: a remote that takes
//! no recipient at all (452 to every RCPT), and a Badmail that cannot be written.

mod common;

use common::sink::{self, Behaviour, Sink};
use common::{config, unique_ip, wait_until, Tern};
use std::time::{Duration, Instant};
use tern::dns::{Responder, Zone};

/// A remote that answers "452 4.5.3" to every RCPT never takes a recipient: that is not a
/// split (nothing to send on another connection now), so the recipients are deferred like any
/// temporary failure, retried on the schedule (1 s here) and bounced once `expiration` (4 s)
/// has passed, instead of reconnecting in a tight loop forever.
#[test]
fn a_remote_that_refuses_every_rcpt_with_452_is_retried_with_backoff_and_expires() {
    let sink = Sink::start(&unique_ip(), 0, Behaviour { max_recipients: Some(0), ..Behaviour::default() });
    let dns = Responder::start(Zone::default()).unwrap();
    let tern =
        Tern::start(&config(1, &sink::routed(&dns, sink.addr, "expiration = \"4s\"\ndelay_notification = \"0s\"")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let reply = smtp.send_message("alice@tern.test", &["x@far.test"], "Subject: 452\r\n\r\nbody\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
    let start = Instant::now();
    let bounced = || tern.drop_files().iter().any(|p| common::read(p).contains("Action: failed"));
    while !bounced() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let connections = sink.record.lock().unwrap().connections;
    let queued = tern.metric("tern_queue_messages");
    // With 1 s between attempts and expiry after 4 s, a handful of connections is right.
    assert!(
        connections <= 20 && bounced(),
        "after {:?}: {connections} connections to the remote, NDR sent: {}, queued: {queued}",
        start.elapsed(),
        bounced()
    );
}

/// A message from the null sender `<>`: the remote takes `ok@far.test` and refuses
/// `nobody@far.test` with 550 in one transaction. The refusal goes to Badmail, which cannot be
/// written (the directory is replaced by a file): the failed recipient stays queued for a
/// later try, but the delivered one is recorded final, so a restart does not send it again.
#[test]
fn a_failed_badmail_does_not_make_a_delivered_recipient_go_out_again_after_restart() {
    let sink =
        Sink::start(&unique_ip(), 0, Behaviour { unknown: vec!["nobody@far.test".into()], ..Behaviour::default() });
    let dns = Responder::start(Zone::default()).unwrap();
    let mut tern = Tern::start(&config(1, &sink::routed(&dns, sink.addr, "")));
    let badmail = tern.data().join("badmail");
    std::fs::remove_dir_all(&badmail).unwrap();
    std::fs::write(&badmail, b"not a directory").unwrap();

    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let reply = smtp.send_message("", &["ok@far.test", "nobody@far.test"], "Subject: bad\r\n\r\nbody\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
    drop(smtp);
    wait_until(Duration::from_secs(20), || sink.count() == 1, || "ok@far.test delivered once".into());
    wait_until(
        Duration::from_secs(20),
        || tern.log().contains("no DSN or Badmail"),
        || format!("badmail failure not seen:\n{}", tern.log()),
    );
    // Give the spool every chance to record what is final, then stop cleanly.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(tern.terminate(Duration::from_secs(30)), Some(0));

    std::fs::remove_file(&badmail).unwrap();
    std::fs::create_dir(&badmail).unwrap();
    tern.restart();
    // The refusal is filed as Badmail now; wait for that, then for the queue to empty.
    wait_until(Duration::from_secs(20), || tern.metric("tern_badmail_total") == 1.0, || "badmail after restart".into());
    tern.wait_metric("tern_queue_messages", 0.0);
    let deliveries: Vec<Vec<String>> = sink.messages().iter().map(|m| m.to.clone()).collect();
    assert_eq!(deliveries, [vec!["ok@far.test".to_string()]], "ok@far.test must be delivered exactly once");
}
