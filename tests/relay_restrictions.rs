//! Relay restrictions (`[relay]`) by client address, by `domain:` entry (the client's
//! forward-confirmed reverse name) and under `all_except`, and two virtual servers with their
//! own `[access]` and `[relay]`.

mod common;

use common::{base_config, Smtp, Tern};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tern::dns::{Responder, Zone};

/// The reply to `RCPT TO:<far@remote.test>` from `source`, after checking a local recipient is
/// accepted whatever the relay rules.
fn relay_reply(addr: SocketAddr, source: &str) -> String {
    let mut smtp = Smtp::connect_from(addr, source);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<postmaster@tern.test>", 250);
    smtp.send("RCPT TO:<far@remote.test>\r\n");
    smtp.read_reply()
}

const DENIED: &str = "550 5.7.1 Relaying denied for <far@remote.test>";
const OK: &str = "250 2.1.5 Recipient OK";

fn zone() -> Zone {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    let mut zone = Zone::default();
    zone.ptr(ip("127.0.0.1"), "gw.partner.test").a("gw.partner.test", v4("127.0.0.1"));
    zone.ptr(ip("127.0.0.2"), "gw.partner.test");
    zone.servfail("2.0.0.127.in-addr.arpa");
    zone.ptr(ip("127.0.0.3"), "mx.other.test").a("mx.other.test", v4("127.0.0.3"));
    zone.ptr(ip("127.0.0.4"), "fake.partner.test").a("fake.partner.test", v4("127.0.0.40"));
    zone
}

#[test]
fn only_by_address_and_by_domain_entry() {
    let dns = Responder::start(zone()).unwrap();
    let tern = Tern::start(&base_config(&format!(
        "[relay]\nlist = [\"127.0.0.9\", \"domain:partner.test\"]\n[delivery]\ndns_servers = [\"{}\"]\n",
        dns.addr()
    )));
    let cases = [
        ("127.0.0.9", OK),     // listed address
        ("127.0.0.1", OK),     // gw.partner.test, confirmed
        ("127.0.0.3", DENIED), // confirmed, another domain
        ("127.0.0.4", DENIED), // PTR in partner.test, but its A record is another address
        ("127.0.0.2", DENIED), // SERVFAIL: `only` does not relay
        ("127.0.0.5", DENIED), // no PTR
    ];
    for (source, want) in cases {
        assert_eq!(relay_reply(tern.addr(), source), want, "from {source}");
    }
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"relay\"}"), 4.0);
    assert!(tern.log().contains("relaying denied"), "{}", tern.log());
}

#[test]
fn all_except_by_address_and_by_domain_entry() {
    let dns = Responder::start(zone()).unwrap();
    let tern = Tern::start(&base_config(&format!(
        "[relay]\nmode = \"all_except\"\nlist = [\"127.0.0.8/29\", \"domain:other.test\"]\n\
         [delivery]\ndns_servers = [\"{}\"]\n",
        dns.addr()
    )));
    let cases = [
        ("127.0.0.9", DENIED), // listed range
        ("127.0.0.3", DENIED), // mx.other.test, confirmed
        ("127.0.0.1", OK),
        ("127.0.0.2", OK), // SERVFAIL: `all_except` relays
        ("127.0.0.5", OK),
    ];
    for (source, want) in cases {
        assert_eq!(relay_reply(tern.addr(), source), want, "from {source}");
    }
}

#[test]
fn each_virtual_server_has_its_own_access_and_relay() {
    let tern = Tern::start(
        r#"
[server]
fqdn = "mx.tern.test"
default_domain = "tern.test"
data_dir = "{data}"
shards = 1

[[virtual_server]]
name = "inside"
bind = ["{ip}:{port}"]
access = { mode = "only", list = ["127.0.0.0/29"] }
relay = { list = ["127.0.0.0/29"] }

[[virtual_server]]
name = "outside"
bind = ["{ip}:{port2}"]

[access]
mode = "all_except"
list = ["127.0.0.66"]

[admin]
listen = "{ip}:{admin}"

[delivery]
dns_servers = ["127.0.0.1:9"]
"#,
    );
    let outside: SocketAddr = format!("{}:{}", tern.ip, tern.port2).parse().unwrap();
    assert_eq!(relay_reply(tern.addr(), "127.0.0.2"), OK, "inside relays for its range");
    assert_eq!(relay_reply(outside, "127.0.0.2"), DENIED, "outside keeps the site default (closed)");
    let mut smtp = Smtp::connect_raw_from(tern.addr(), "127.0.0.66");
    assert!(smtp.read_reply().starts_with("554 5.7.1 "), "inside admits only its range");
    let mut smtp = Smtp::connect_raw_from(outside, "127.0.0.66");
    assert!(smtp.read_reply().starts_with("554 5.7.1 "), "outside uses the site [access]");
    assert_eq!(relay_reply(outside, "127.0.0.20"), DENIED);
    let mut smtp = Smtp::connect_raw_from(tern.addr(), "127.0.0.20");
    assert!(smtp.read_reply().starts_with("554 5.7.1 "));
    let refused = |vs: &str| {
        tern.metric(&format!("tern_connections_refused_total{{virtual_server=\"{vs}\",reason=\"access_list\"}}"))
    };
    assert_eq!((refused("inside"), refused("outside")), (2.0, 1.0));
}
