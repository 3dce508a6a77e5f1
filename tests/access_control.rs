//! Connection control (`[access]`): IP, CIDR, IPv6 and `domain:` entries under `only` and
//! `all_except`, site-wide and per virtual server. A refused client reads `554 5.7.1` and
//! then the end of the connection; refusals are counted by reason.

mod common;

use common::{base_config, free_port, Smtp, Tern};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tern::dns::{Responder, Zone};

/// Connects from `source`; true when the client got the banner, false when it got the 554
/// refusal followed by the end of the connection (checked here).
fn admitted(addr: SocketAddr, source: &str) -> bool {
    let mut smtp = Smtp::connect_raw_from(addr, source);
    let first = smtp.read_reply();
    if first.starts_with("220 ") {
        return true;
    }
    let ip = source.trim_start_matches("::ffff:");
    assert_eq!(first, format!("554 5.7.1 mx.tern.test Access denied for [{ip}]"), "from {source}");
    assert_eq!(smtp.read_to_close(), "", "nothing after the refusal");
    false
}

fn refused(tern: &Tern, vs: &str, reason: &str) -> f64 {
    tern.metric(&format!("tern_connections_refused_total{{virtual_server=\"{vs}\",reason=\"{reason}\"}}"))
}

#[test]
fn ip_and_cidr_entries_under_only_and_all_except() {
    let tern = Tern::start(&base_config(
        "[access]\nmode = \"only\"\nlist = [\"127.0.0.1\", \"127.0.0.8/30\", \"2001:db8::/32\"]\n",
    ));
    let cases =
        [("127.0.0.1", true), ("127.0.0.2", false), ("127.0.0.8", true), ("127.0.0.11", true), ("127.0.0.12", false)];
    for (source, want) in cases {
        assert_eq!(admitted(tern.addr(), source), want, "only: {source}");
    }
    assert_eq!(refused(&tern, "main", "access_list"), 2.0);
    assert_eq!(refused(&tern, "main", "access_domain"), 0.0);
    // Three admitted here and the harness's start-up probe; refusals are not connections.
    assert_eq!(tern.metric("tern_connections_inbound_total{virtual_server=\"main\"}"), 4.0);
    assert!(tern.log().contains("connection refused by [access]"), "{}", tern.log());

    let tern = Tern::start(&base_config("[access]\nmode = \"all_except\"\nlist = [\"127.0.0.8/29\"]\n"));
    for (source, want) in [("127.0.0.1", true), ("127.0.0.9", false), ("127.0.0.15", false), ("127.0.0.16", true)] {
        assert_eq!(admitted(tern.addr(), source), want, "all_except: {source}");
    }
    assert_eq!(refused(&tern, "main", "access_list"), 2.0);

    let tern = Tern::start(&base_config(""));
    assert!(admitted(tern.addr(), "127.0.0.77"), "everyone connects by default");
}

#[test]
fn ipv6_entries_and_per_virtual_server_overrides() {
    let (open6, closed6) = (free_port("::1"), free_port("::1"));
    let tern = Tern::start(&format!(
        r#"
[server]
fqdn = "mx.tern.test"
default_domain = "tern.test"
data_dir = "{{data}}"
shards = 1

[access]
mode = "only"
list = ["127.0.0.1"]

[[virtual_server]]
name = "site"
bind = ["{{ip}}:{{port}}"]

[[virtual_server]]
name = "v6-open"
bind = ["[::1]:{open6}"]
access = {{ list = ["::/127"] }}

[[virtual_server]]
name = "v6-closed"
bind = ["[::1]:{closed6}"]
access = {{ mode = "all_except", list = ["::1"] }}

[admin]
listen = "{{ip}}:{{admin}}"

[delivery]
dns_servers = ["127.0.0.1:9"]
"#
    ));
    assert!(admitted(tern.addr(), "127.0.0.1"));
    assert!(!admitted(tern.addr(), "127.0.0.3"), "site list applies");
    assert!(admitted(format!("[::1]:{open6}").parse().unwrap(), "::1"), "override list, site mode");
    assert!(!admitted(format!("[::1]:{closed6}").parse().unwrap(), "::1"), "override mode and list");
    assert_eq!(refused(&tern, "site", "access_list"), 1.0);
    assert_eq!(refused(&tern, "v6-open", "access_list"), 0.0);
    assert_eq!(refused(&tern, "v6-closed", "access_list"), 1.0);
}

#[test]
fn domain_entries_match_forward_confirmed_reverse_names() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    let mut zone = Zone::default();
    zone.ptr(ip("127.0.0.1"), "mail.client.test").a("mail.client.test", v4("127.0.0.1"));
    zone.ptr(ip("127.0.0.2"), "liar.client.test").a("liar.client.test", v4("127.0.0.99"));
    zone.ptr(ip("127.0.0.3"), "mx.other.test").a("mx.other.test", v4("127.0.0.3"));
    zone.ptr(ip("127.0.0.4"), "mail.client.test");
    zone.servfail("4.0.0.127.in-addr.arpa");
    zone.ptr(ip("127.0.0.6"), "client.test.evil.test").a("client.test.evil.test", v4("127.0.0.6"));
    let dns = Responder::start(zone).unwrap();
    let tern = Tern::start(&base_config(&format!(
        r#"
[[virtual_server]]
name = "open"
bind = ["{{ip}}:{{port2}}"]
access = {{ mode = "all_except", list = ["domain:other.test"] }}

[access]
mode = "only"
list = ["domain:client.test"]

[delivery]
dns_servers = ["{}"]
"#,
        dns.addr()
    )));
    let only = [
        ("127.0.0.1", true),  // PTR mail.client.test, its A is the client
        ("127.0.0.2", false), // PTR not confirmed by its A record
        ("127.0.0.3", false), // confirmed, another domain
        ("127.0.0.4", false), // SERVFAIL: `only` refuses
        ("127.0.0.5", false), // no PTR at all
        ("127.0.0.6", false), // the listed name is not a suffix at a label boundary
    ];
    for (source, want) in only {
        assert_eq!(admitted(tern.addr(), source), want, "only domain:client.test, from {source}");
    }
    assert_eq!(refused(&tern, "main", "access_domain"), 4.0);
    assert_eq!(refused(&tern, "main", "access_dns"), 1.0);
    let open: SocketAddr = format!("{}:{}", tern.ip, tern.port2).parse().unwrap();
    for (source, want) in [("127.0.0.1", true), ("127.0.0.3", false), ("127.0.0.4", true), ("127.0.0.5", true)] {
        assert_eq!(admitted(open, source), want, "all_except domain:other.test, from {source}");
    }
    assert_eq!(refused(&tern, "open", "access_domain"), 1.0);
    assert!(dns.queries("1.0.0.127.in-addr.arpa") >= 1);
}
