//! `kill -9` after messages were accepted: every accepted message is back in the queue exactly
//! once and intact after a restart; local ones reach the Drop directory.

mod common;

use common::{wait_until, Smtp, Tern};
use std::collections::HashMap;
use std::time::Duration;

const REMOTE: &str = "[[domain]]\nname = \"remote.example\"\nkind = \"remote\"\nallow_relay = true\n";

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 25;

fn body(client: usize, n: usize) -> String {
    let filler = format!("line of client {client} message {n} ").repeat(3);
    format!("Subject: crash {client}/{n}\r\n\r\n{}\r\n..dotted\r\nend\r\n", filler)
}

/// Sends PER_CLIENT messages on one connection; returns (id, body) of the accepted ones.
fn client(addr: std::net::SocketAddr, c: usize, local_every: usize) -> Vec<(String, String, bool)> {
    let mut smtp = Smtp::connect(addr);
    smtp.cmd("EHLO load.test", 250);
    let mut accepted = Vec::new();
    for n in 0..PER_CLIENT {
        let local = n % local_every == 0;
        let rcpt = if local { format!("u{c}x{n}@tern.test") } else { format!("r{c}x{n}@remote.example") };
        let b = body(c, n);
        let reply = smtp.send_message("s@sender.test", &[&rcpt], &b);
        let id = reply.strip_prefix("250 2.0.0 Queued as ").unwrap_or_else(|| panic!("{reply}"));
        accepted.push((id.to_string(), b, local));
    }
    accepted
}

/// Every message record in the spool segments, by id (the wire bytes after the trace header).
fn spooled(tern: &Tern) -> HashMap<String, Vec<u8>> {
    let mut found = HashMap::new();
    for shard in std::fs::read_dir(tern.data().join("spool")).unwrap() {
        for seg in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let bytes = std::fs::read(seg.unwrap().path()).unwrap();
            let mut at = 0;
            while let Ok((record, len)) = tern::spool::decode(&bytes[at..]) {
                if let tern::spool::Record::Message { meta, body } = record {
                    found.insert(meta.id, body);
                }
                at += len;
            }
        }
    }
    found
}

#[test]
fn kill_9_then_restart_recovers_every_accepted_message_exactly_once() {
    let mut tern = Tern::start(&common::config(2, REMOTE));
    let addr = tern.addr();
    let threads: Vec<_> = (0..CLIENTS).map(|c| std::thread::spawn(move || client(addr, c, 5))).collect();
    let accepted: Vec<(String, String, bool)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let remote = accepted.iter().filter(|m| !m.2).count();
    let local = accepted.len() - remote;
    tern.kill9();

    tern.restart();
    tern.wait_metric("tern_queue_messages", remote as f64);
    wait_until(
        Duration::from_secs(60),
        || tern.drop_files().len() == local,
        || format!("{} drop files, want {local}", tern.drop_files().len()),
    );
    let spool = spooled(&tern);
    for (id, body, is_local) in &accepted {
        if *is_local {
            let file = tern.drop_dir().join(format!("{id}.eml"));
            let content = common::read(&file);
            assert!(content.ends_with(&body.replace("\r\n..", "\r\n.")), "{id} intact in drop");
            continue;
        }
        let wire = spool.get(id).unwrap_or_else(|| panic!("{id} missing from the spool"));
        let wire = String::from_utf8(wire.clone()).unwrap();
        assert!(wire.starts_with("Received: from load.test "), "{wire}");
        assert!(wire.ends_with(body.as_str()), "{id} intact in the spool");
    }
    // Another restart (clean this time) still has exactly the remote messages queued.
    assert_eq!(tern.terminate(Duration::from_secs(15)), Some(0));
    tern.restart();
    tern.wait_metric("tern_queue_messages", remote as f64);
    assert_eq!(tern.drop_files().len(), local);
}
