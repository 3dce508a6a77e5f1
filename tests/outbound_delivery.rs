//! Outbound delivery end to end: messages accepted by tern reach sinks on loopback through
//! DNS (MX preference, fallback, A fallback), a route domain and a smart host; null MX and
//! NXDOMAIN bounce to the sender (a copy to `ndr_copy_to`); SERVFAIL defers.

mod common;

use common::sink::{Behaviour, Sink};
use common::{config, unique_ip, wait_until, Tern};
use std::time::Duration;
use tern::dns::{Responder, Zone};

/// A port free on every address used by one test (MX delivery uses one remote port).
fn shared_port(ips: &[&str]) -> u16 {
    loop {
        let port = common::free_port(ips[0]);
        if ips.iter().all(|ip| std::net::TcpListener::bind((*ip, port)).is_ok()) {
            return port;
        }
    }
}

fn delivery(dns: &Responder, port: u16, extra: &str) -> String {
    format!(
        "[delivery]\ndns_servers = [\"{}\"]\nremote_port = {port}\nretry_intervals = [\"1s\"]\n\
         subsequent_retry_interval = \"1s\"\n{extra}\n[relay]\nlist = [\"127.0.0.0/8\"]\n",
        dns.addr()
    )
}

fn send(tern: &Tern, from: &str, to: &[&str], subject: &str) -> String {
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let reply = smtp.send_message(from, to, &format!("Subject: {subject}\r\n\r\nbody of {subject}\r\n..dot\r\n"));
    assert!(reply.starts_with("250 "), "{reply}");
    reply.rsplit(' ').next().unwrap().to_string()
}

#[test]
fn mx_preference_fallback_and_exact_content() {
    let (good, dead) = (unique_ip(), unique_ip());
    let port = shared_port(&[&good, &dead]);
    let sink = Sink::start(&good, port, Behaviour::default());
    let mut zone = Zone::default();
    zone.mx("far.test", 10, "mx1.far.test");
    zone.mx("far.test", 20, "mx2.far.test");
    zone.a("mx1.far.test", dead.parse().unwrap());
    zone.a("mx2.far.test", good.parse().unwrap());
    zone.a("plain.test", good.parse().unwrap());
    let dns = Responder::start(zone).unwrap();
    let tern = Tern::start(&config(2, &delivery(&dns, port, "")));

    let id = send(&tern, "alice@sender.test", &["bob@far.test"], "mx");
    send(&tern, "alice@sender.test", &["carol@plain.test"], "a-fallback");
    wait_until(Duration::from_secs(20), || sink.count() == 2, || format!("{} delivered", sink.count()));
    let messages = sink.messages();
    let mx = messages.iter().find(|m| m.to == ["bob@far.test"]).expect("MX delivery");
    assert_eq!(mx.from, "alice@sender.test");
    assert!(mx.data.starts_with("Received: from client.test ([127.0.0.1])\r\n\tby mx.tern.test with ESMTP id "));
    assert!(mx.data.contains(&id), "the trace header names the id");
    assert!(mx.data.ends_with("\r\nSubject: mx\r\n\r\nbody of mx\r\n..dot\r\n"), "sent in wire form: {:?}", mx.data);
    assert!(messages.iter().any(|m| m.to == ["carol@plain.test"]), "no MX: the domain's A record");
    tern.wait_metric("tern_queue_messages", 0.0);
    assert_eq!(tern.metric("tern_messages_sent_total{domain=\"far.test\"}"), 1.0);
}

#[test]
fn null_mx_and_nxdomain_bounce_to_the_sender_and_servfail_defers() {
    let ip = unique_ip();
    let port = shared_port(&[&ip]);
    let mut zone = Zone::default();
    zone.null_mx("nullmx.test");
    zone.nxdomain("gone.test");
    zone.servfail("broken.test");
    let dns = Responder::start(zone).unwrap();
    let tern = Tern::start(&config(1, &delivery(&dns, port, "ndr_copy_to = \"postmaster@tern.test\"")));

    send(&tern, "alice@tern.test", &["x@nullmx.test"], "null");
    send(&tern, "alice@tern.test", &["y@gone.test"], "nx");
    send(&tern, "alice@tern.test", &["z@broken.test"], "servfail");
    wait_until(Duration::from_secs(20), || tern.drop_files().len() == 2, || "two NDRs in the drop directory".into());
    let ndrs: Vec<String> = tern.drop_files().iter().map(|p| common::read(p)).collect();
    let null = ndrs.iter().find(|c| c.contains("x@nullmx.test")).expect("NDR for the null MX");
    assert!(
        null.starts_with("X-Sender: <>\r\nX-Receiver: alice@tern.test\r\nX-Receiver: postmaster@tern.test\r\n"),
        "the NDR goes to the sender with a copy to ndr_copy_to: {null}"
    );
    assert!(null.contains("Status: 5.1.10"), "{null}");
    assert!(null.contains("Action: failed"), "{null}");
    let nx = ndrs.iter().find(|c| c.contains("y@gone.test")).expect("NDR for NXDOMAIN");
    assert!(nx.contains("Status: 5.1.2"), "{nx}");
    assert!(nx.contains("Content-Type: multipart/report; report-type=delivery-status"), "{nx}");
    wait_until(Duration::from_secs(60), || tern.metric("tern_messages_deferred_total") >= 1.0, || "deferred".into());
    assert_eq!(tern.metric("tern_ndr_total"), 2.0);
    // The SERVFAIL message stays queued (its retry is 15 minutes away); the NDR'd ones leave
    // once their done records are synced, just after the NDR files appear.
    tern.wait_metric("tern_queue_messages", 1.0);
}

#[test]
fn a_message_over_the_hop_limit_at_relay_time_bounces_with_5_4_6() {
    let ip = unique_ip();
    let sink = Sink::start(&ip, 0, Behaviour::default());
    let dns = Responder::start(Zone::default()).unwrap();
    let extra = format!("max_hop_count = 2\nsmart_host = \"[{ip}]:{}\"\n", sink.addr.port());
    let tern = Tern::start(&config(1, &delivery(&dns, 25, &extra)));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let two_hops = "Received: from a by b; Mon, 23 Nov 2026 00:00:00 +0000\r\n\
                    Received: from c by d; Mon, 23 Nov 2026 00:00:00 +0000\r\nSubject: hops\r\n\r\nx\r\n";
    let reply = smtp.send_message("alice@tern.test", &["far@away.test"], two_hops);
    assert!(reply.starts_with("250 "), "two hops are accepted: {reply}");
    wait_until(Duration::from_secs(20), || tern.drop_files().len() == 1, || "an NDR".into());
    let ndr = common::read(&tern.drop_files()[0]);
    assert!(ndr.contains("Status: 5.4.6"), "ours makes three: {ndr}");
    assert_eq!(sink.count(), 0);
}

#[test]
fn route_domains_and_the_smart_host_bypass_dns() {
    let (routed, smart) = (unique_ip(), unique_ip());
    let routed_sink = Sink::start(&routed, 0, Behaviour::default());
    let smart_sink = Sink::start(&smart, 0, Behaviour::default());
    let dns = Responder::start(Zone::default()).unwrap();
    let extra = format!(
        "smart_host = \"[{}]:{}\"\n[[domain]]\nname = \"*.partner.test\"\nkind = \"remote\"\nroute_to = \"[{}]:{}\"\n",
        smart_sink.addr.ip(),
        smart_sink.addr.port(),
        routed_sink.addr.ip(),
        routed_sink.addr.port()
    );
    let tern = Tern::start(&config(2, &delivery(&dns, 25, &extra)));
    send(&tern, "a@sender.test", &["p@eu.partner.test"], "routed");
    send(&tern, "a@sender.test", &["q@anywhere.test"], "smart");
    wait_until(
        Duration::from_secs(20),
        || routed_sink.count() == 1 && smart_sink.count() == 1,
        || format!("routed {}, smart {}", routed_sink.count(), smart_sink.count()),
    );
    assert_eq!(routed_sink.messages()[0].to, ["p@eu.partner.test"]);
    assert_eq!(smart_sink.messages()[0].to, ["q@anywhere.test"]);
}

/// The 5 recipients refused with 452 go to the remote on a second connection, once. The
/// remote answers each end of data only after 2.5 s, longer than tern's first retry would
/// wait: the leftover job still belongs to the first attempt, so no retry duplicates it.
#[test]
fn a_recipient_limit_splits_the_message_without_ndr() {
    let ip = unique_ip();
    let slow = Behaviour { max_recipients: Some(100), data_delay: Duration::from_millis(2500), ..Behaviour::default() };
    let sink = Sink::start(&ip, 0, slow);
    let dns = Responder::start(Zone::default()).unwrap();
    let extra = format!("smart_host = \"[{ip}]:{}\"\n", sink.addr.port());
    let tern = Tern::start(&config(1, &format!("{}[limits]\nmax_recipients = 200\n", delivery(&dns, 25, &extra))));
    let rcpts: Vec<String> = (0..105).map(|i| format!("r{i}@big.test")).collect();
    let rcpt_refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    assert!(smtp.send_message("a@sender.test", &rcpt_refs, "Subject: many\r\n\r\nx\r\n").starts_with("250 "));
    wait_until(Duration::from_secs(30), || sink.count() == 2, || format!("{} transactions", sink.count()));
    tern.wait_metric("tern_queue_messages", 0.0);
    tern.wait_metric("tern_connections_outbound_current", 0.0);
    let mut got: Vec<String> = sink.messages().iter().flat_map(|m| m.to.clone()).collect();
    got.sort();
    let mut want = rcpts.clone();
    want.sort();
    assert_eq!(got, want, "every recipient exactly once");
    let sizes: Vec<usize> = sink.messages().iter().map(|m| m.to.len()).collect();
    assert_eq!(sizes, [100, 5]);
    let record = sink.record.lock().unwrap();
    assert_eq!(record.connections, 2, "the rest went on a new connection");
    drop(record);
    assert_eq!(tern.metric("tern_ndr_total"), 0.0);
}
