//! `delivery.reverse_dns_lookup`: the client's PTR names, confirmed forward, compared with the
//! EHLO name, as written in the Received header of messages in the Drop directory: verified,
//! mismatch (`unverified`), and failure (`RDNS failed`: no PTR, SERVFAIL, a DNS server that
//! never answers).

mod common;

use common::{base_config, read, wait_until, Smtp, Tern};
use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::Duration;
use tern::dns::{Responder, Zone};

/// Sends one message from `source` with `ehlo` to `rcpt` (local) over DATA, or over BDAT with
/// `chunked`; returns the Received header of the Drop file that holds it.
fn received(tern: &Tern, source: &str, ehlo: &str, rcpt: &str, chunked: bool) -> String {
    let mut smtp = Smtp::connect_from(tern.addr(), source);
    smtp.cmd(&format!("EHLO {ehlo}"), 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd(&format!("RCPT TO:<{rcpt}>"), 250);
    if chunked {
        let body = "Subject: rdns\r\n\r\nbody\r\n";
        smtp.send(format!("BDAT {} LAST\r\n{body}", body.len()));
        assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    } else {
        smtp.cmd("DATA", 354);
        smtp.send("Subject: rdns\r\n\r\nbody\r\n.\r\n");
        assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    }
    smtp.cmd("QUIT", 221);
    let marker = format!("X-Receiver: {rcpt}\r\n");
    let mut text = String::new();
    wait_until(
        Duration::from_secs(15),
        || {
            let found = tern.drop_files().iter().map(|p| read(p)).find(|t| t.contains(&marker));
            found.map(|t| text = t).is_some()
        },
        || format!("no Drop file for {rcpt}"),
    );
    let start = text.find("Received: ").unwrap();
    let end = start + text[start..].find("\r\n\tby ").unwrap();
    text[start..end].to_string()
}

#[test]
fn verified_mismatch_and_failure_in_the_received_header() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    let mut zone = Zone::default();
    zone.ptr(ip("127.0.0.1"), "client.test").a("client.test", v4("127.0.0.1"));
    zone.ptr(ip("127.0.0.2"), "forged.test").a("forged.test", v4("127.0.0.99"));
    zone.ptr(ip("127.0.0.3"), "x.test");
    zone.servfail("3.0.0.127.in-addr.arpa");
    let dns = Responder::start(zone).unwrap();
    let tern = Tern::start(&base_config(&format!(
        "[delivery]\nreverse_dns_lookup = true\ndns_servers = [\"{}\"]\n",
        dns.addr()
    )));
    let cases = [
        ("127.0.0.1", "client.test", false, "Received: from client.test (client.test [127.0.0.1])"),
        ("127.0.0.1", "Client.TEST", true, "Received: from Client.TEST (client.test [127.0.0.1])"),
        ("127.0.0.1", "other.test", false, "Received: from other.test (client.test [127.0.0.1] unverified)"),
        ("127.0.0.2", "forged.test", true, "Received: from forged.test ([127.0.0.2] unverified)"),
        ("127.0.0.3", "x.test", false, "Received: from x.test ([127.0.0.3] RDNS failed)"),
        ("127.0.0.4", "nobody.test", false, "Received: from nobody.test ([127.0.0.4] RDNS failed)"),
    ];
    for (i, (source, ehlo, chunked, want)) in cases.into_iter().enumerate() {
        let got = received(&tern, source, ehlo, &format!("r{i}@tern.test"), chunked);
        assert_eq!(got, want, "from {source} as {ehlo}");
    }
    let asked = dns.queries("1.0.0.127.in-addr.arpa");
    assert!((1..=2).contains(&asked), "PTR answers are cached per shard ({asked} queries for 3 sessions)");
}

#[test]
fn a_dns_server_that_never_answers_means_rdns_failed_after_the_time_out() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tern = Tern::start(&base_config(&format!(
        "[delivery]\nreverse_dns_lookup = true\ndns_servers = [\"{}\"]\n",
        silent.local_addr().unwrap()
    )));
    let got = received(&tern, "127.0.0.1", "client.test", "late@tern.test", false);
    assert_eq!(got, "Received: from client.test ([127.0.0.1] RDNS failed)");
    let mut buf = [0u8; 512];
    silent.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    assert!(silent.recv(&mut buf).is_ok(), "the PTR query was sent");
}
