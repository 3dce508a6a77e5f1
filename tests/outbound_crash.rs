//! `kill -9` in the middle of heavy delivery, then a restart: every accepted message reaches
//! the sink at least once. Messages in flight at the kill may arrive twice; the test prints
//! how many did.

mod common;

use common::sink::{Behaviour, Sink};
use common::{config, unique_ip, wait_until, Smtp, Tern};
use std::collections::HashMap;
use std::time::Duration;
use tern::dns::{Responder, Zone};

const MESSAGES: usize = 300;

#[test]
fn every_accepted_message_is_delivered_after_a_crash() {
    let ip = unique_ip();
    let sink = Sink::start(&ip, 0, Behaviour { data_delay: Duration::from_millis(5), ..Behaviour::default() });
    let dns = Responder::start(Zone::default()).unwrap();
    let extra = format!(
        "[delivery]\ndns_servers = [\"{}\"]\nconnections_per_domain = 4\nmessages_per_connection = 10\n\
         [[domain]]\nname = \"far.test\"\nkind = \"remote\"\nallow_relay = true\nroute_to = \"[{ip}]:{}\"\n",
        dns.addr(),
        sink.addr.port()
    );
    let mut tern = Tern::start(&config(2, &extra));
    let addr = tern.addr();
    let threads: Vec<_> = (0..4)
        .map(|s| {
            std::thread::spawn(move || {
                let mut smtp = Smtp::connect(addr);
                smtp.cmd("EHLO load.test", 250);
                (s..MESSAGES)
                    .step_by(4)
                    .inspect(|n| {
                        let body = format!("Subject: crash {n}\r\nX-Seq: {n}\r\n\r\nbody {n}\r\n");
                        let reply = smtp.send_message("a@sender.test", &["x@far.test"], &body);
                        assert!(reply.starts_with("250 "), "{reply}");
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let accepted: Vec<usize> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(accepted.len(), MESSAGES);
    wait_until(Duration::from_secs(30), || sink.count() >= MESSAGES / 3, || "delivery under way".into());
    tern.kill9();
    let at_kill = sink.count();
    tern.restart();
    let seqs = || -> HashMap<usize, usize> {
        let mut seen = HashMap::new();
        for m in sink.messages() {
            let seq = m.data.split("X-Seq: ").nth(1).and_then(|r| r.split("\r\n").next()).unwrap().parse().unwrap();
            *seen.entry(seq).or_insert(0) += 1;
        }
        seen
    };
    wait_until(
        Duration::from_secs(60),
        || seqs().len() == MESSAGES,
        || format!("{} of {MESSAGES} delivered", seqs().len()),
    );
    let twice = seqs().values().filter(|&&n| n > 1).count();
    eprintln!("crash during delivery: {at_kill} delivered before kill -9, {twice} of {MESSAGES} delivered twice");
    tern.wait_metric("tern_queue_messages", 0.0);
}
