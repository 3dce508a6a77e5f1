//! The pool limits are exact with two shards: never more connections to a domain than
//! `connections_per_domain`, never more messages on one connection than
//! `messages_per_connection`, never more connections in total than `outbound_connections`;
//! and a long queue really runs the allowed connections in parallel.

mod common;

use common::sink::{Behaviour, Sink};
use common::{config, unique_ip, wait_until, Smtp, Tern};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tern::dns::{Responder, Zone};

/// Sends `count` messages over `sessions` parallel client connections (landing on both shards).
fn load(tern: &Tern, sessions: usize, count: usize, rcpt: impl Fn(usize) -> String + Send + Sync + Copy + 'static) {
    let addr = tern.addr();
    let threads: Vec<_> = (0..sessions)
        .map(|s| {
            std::thread::spawn(move || {
                let mut smtp = Smtp::connect(addr);
                smtp.cmd("EHLO load.test", 250);
                for n in (s..count).step_by(sessions) {
                    let to = rcpt(n);
                    let reply = smtp.send_message("a@sender.test", &[&to], &format!("Subject: {n}\r\n\r\nm{n}\r\n"));
                    assert!(reply.starts_with("250 "), "{reply}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn per_domain_limits_hold_with_two_shards_and_the_pool_runs_in_parallel() {
    let ip = unique_ip();
    // The sink greets only once all 100 messages are queued: the queue is long for sure.
    let gate = Arc::new(AtomicBool::new(false));
    let behaviour = Behaviour { greeting_gate: Some(gate.clone()), ..Behaviour::default() };
    let sink = Sink::start(&ip, 0, behaviour);
    let dns = Responder::start(Zone::default()).unwrap();
    let extra = format!(
        "[delivery]\ndns_servers = [\"{}\"]\nconnections_per_domain = 3\nmessages_per_connection = 5\n\
         [[domain]]\nname = \"bulk.test\"\nkind = \"remote\"\nallow_relay = true\nroute_to = \"[{ip}]:{}\"\n",
        dns.addr(),
        sink.addr.port()
    );
    let tern = Tern::start(&config(2, &extra));
    load(&tern, 8, 100, |n| format!("u{n}@bulk.test"));
    gate.store(true, Ordering::SeqCst);
    wait_until(Duration::from_secs(60), || sink.count() == 100, || format!("{} of 100 delivered", sink.count()));
    let record = sink.record.lock().unwrap();
    assert!(record.peak_open <= 3, "peak {} connections", record.peak_open);
    assert_eq!(record.peak_open, 3, "a long queue uses every allowed connection");
    assert!(record.per_connection.iter().all(|&n| n <= 5), "{:?}", record.per_connection);
    assert!(record.connections >= 20, "100 messages at 5 per connection: {}", record.connections);
    let mut subjects: Vec<String> = record.messages.iter().map(|m| m.data.clone()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 100, "every message exactly once");
}

#[test]
fn the_global_cap_holds_across_domains_and_shards() {
    let ip = unique_ip();
    let port = common::free_port(&ip);
    let sink = Sink::start(&ip, port, Behaviour { data_delay: Duration::from_millis(20), ..Behaviour::default() });
    let mut zone = Zone::default();
    for d in 0..4 {
        zone.mx(&format!("d{d}.test"), 10, "mx.sink.test");
    }
    zone.a("mx.sink.test", ip.parse().unwrap());
    let dns = Responder::start(zone).unwrap();
    let extra = format!(
        "[delivery]\ndns_servers = [\"{}\"]\nremote_port = {port}\noutbound_connections = 4\n\
         connections_per_domain = 3\nmessages_per_connection = 2\n[relay]\nlist = [\"127.0.0.0/8\"]\n",
        dns.addr()
    );
    let tern = Tern::start(&config(2, &extra));
    load(&tern, 8, 80, |n| format!("u{n}@d{}.test", n % 4));
    wait_until(
        Duration::from_secs(60),
        || sink.count() == 80,
        || {
            let r = sink.record.lock().unwrap();
            format!(
                "{} of 80 delivered; sink open {} of {}; last commands {:?}",
                r.messages.len(),
                r.open,
                r.connections,
                r.last_command
            )
        },
    );
    let record = sink.record.lock().unwrap();
    assert!(record.peak_open <= 4, "peak {} connections in total", record.peak_open);
    assert!(record.per_connection.iter().all(|&n| n <= 2), "{:?}", record.per_connection);
}
