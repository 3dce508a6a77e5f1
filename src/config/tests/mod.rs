//! Table-driven tests of parsing, defaults, overrides and loading; errors are in `errors`.

mod errors;
mod security;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::host::{hostname, online_cpus};
use super::*;
use crate::policy::{IpList, IpNet};

const KB: u64 = 1024;

pub(super) fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

pub(super) fn errors_of(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(ConfigErrors(errors)) => errors,
    }
}

/// Asserts that parsing `text` reports an error whose path and reason contain the substrings.
pub(super) fn assert_error(text: &str, path: &str, reason: &str) {
    let errors = errors_of(text);
    assert!(
        errors.iter().any(|e| e.path.contains(path) && e.reason.contains(reason)),
        "expected `{path}: ...{reason}...` for:\n{text}\ngot: {errors:#?}"
    );
}

#[test]
fn empty_file_is_the_full_default() {
    let config = parse("").unwrap();
    let data = PathBuf::from("/var/lib/tern");
    let server = Server {
        fqdn: hostname().to_ascii_lowercase(),
        default_domain: "localhost".into(),
        shards: online_cpus(),
        spool_dir: data.join("spool"),
        drop_dir: data.join("drop"),
        pickup_dir: data.join("pickup"),
        badmail_dir: data.join("badmail"),
        log_dir: data.join("log"),
        data_dir: data,
    };
    assert_eq!(config.server, server);
    assert_ne!(config.server.shards, 0);
    let limits = Limits {
        inbound_connections: 0,
        connection_timeout: Duration::from_secs(600),
        max_message_size: 2048 * KB,
        max_session_size: 10240 * KB,
        max_recipients: 100,
    };
    let relay = Relay { mode: ListMode::Only, list: ClientList::default(), allow_authenticated: true };
    let access = Access { mode: ListMode::AllExcept, list: ClientList::default() };
    let vs = VirtualServer {
        name: "Default SMTP Virtual Server".into(),
        bind: vec![addr("0.0.0.0:25")],
        state: VsState::Started,
        default_domain: "localhost".into(),
        limits,
        relay,
        access,
        tls: Tls { certificate: None, key: None, require: false },
        auth: Auth { anonymous: true, basic: true, users: None, require_tls_for_basic: true },
    };
    assert_eq!(config.virtual_servers, vec![vs]);
    assert_eq!(config.domains, vec![]);
    assert_eq!(config.admin.listen, Some(addr("127.0.0.1:8025")));
    assert_default_delivery(&config.delivery);
}

fn assert_default_delivery(d: &Delivery) {
    let min = |m: u64| Duration::from_secs(m * 60);
    assert_eq!(d.outbound_connections, 500);
    assert_eq!(d.connections_per_domain, 100);
    assert_eq!(d.messages_per_connection, 20);
    assert_eq!(d.retry_intervals, vec![min(15), min(30), min(60)]);
    assert_eq!(d.subsequent_retry_interval, min(240));
    assert_eq!(d.max_retries, 48);
    assert_eq!(d.delay_notification, Duration::from_secs(12 * 3600));
    assert_eq!(d.expiration, Duration::from_secs(2 * 86400));
    assert_eq!(d.max_hop_count, 15);
    assert_eq!(d.masquerade_domain, "");
    assert_eq!(d.smart_host, "");
    assert!(!d.attempt_direct_before_smart_host);
    assert!(!d.reverse_dns_lookup);
    assert_eq!(d.ndr_copy_to, "");
    assert_eq!(d.dns_servers, vec![]);
    assert_eq!(d.remote_port, 25);
}

#[test]
fn embedded_default_parses() {
    let config = parse(EMBEDDED_DEFAULT).unwrap();
    assert_eq!(config.server.fqdn, "localhost");
    assert_eq!(config.server.default_domain, "localhost");
    assert_eq!(config.server.data_dir, PathBuf::from("./tern-data"));
    assert_eq!(config.server.spool_dir, PathBuf::from("./tern-data/spool"));
    assert_eq!(config.virtual_servers.len(), 1);
    let vs = &config.virtual_servers[0];
    assert_eq!(vs.name, "Default SMTP Virtual Server");
    assert_eq!(vs.bind, vec![addr("127.0.0.1:2525")]);
    assert_eq!(vs.relay.mode, ListMode::Only);
    assert_eq!(vs.relay.list.ips, IpList(vec![IpNet::parse("127.0.0.1").unwrap()]));
    assert!(vs.relay.list.domains.is_empty());
    assert_eq!(config.admin.listen, Some(addr("127.0.0.1:8025")));
}

#[test]
fn explicit_values_are_read() {
    let config = parse(
        r#"
        [server]
        fqdn = "MX1.Example.COM"
        default_domain = "Example.com"
        data_dir = "/srv/tern"
        shards = 1
        spool_dir = "/fast/spool"
        [[virtual_server]]
        name = "a"
        bind = ["192.0.2.1:25", "[2001:db8::1]:2525"]
        state = "paused"
        [limits]
        inbound_connections = 1000
        connection_timeout = "15m"
        max_message_size = "10MB"
        max_session_size = 20971520
        max_recipients = 5000
        [relay]
        mode = "all_except"
        list = ["192.0.2.0/24", "2001:db8::/32"]
        allow_authenticated = false
        [delivery]
        max_hop_count = 30
        [[domain]]
        name = "example.com"
        kind = "local"
        [[domain]]
        name = "Example.ORG"
        kind = "alias"
        [[domain]]
        name = "*.partner.example"
        kind = "remote"
        allow_relay = true
        [admin]
        listen = ""
        "#,
    )
    .unwrap();
    assert_eq!(config.server.fqdn, "mx1.example.com");
    assert_eq!(config.server.default_domain, "example.com");
    assert_eq!(config.server.shards, 1);
    assert_eq!(config.server.spool_dir, PathBuf::from("/fast/spool"));
    assert_eq!(config.server.drop_dir, PathBuf::from("/srv/tern/drop"));
    let vs = &config.virtual_servers[0];
    assert_eq!(vs.bind, vec![addr("192.0.2.1:25"), addr("[2001:db8::1]:2525")]);
    assert_eq!(vs.state, VsState::Paused);
    assert_eq!(vs.default_domain, "example.com");
    assert_eq!(vs.limits.connection_timeout, Duration::from_secs(900));
    assert_eq!(vs.limits.max_message_size, 10 * KB * KB);
    assert_eq!(vs.limits.max_session_size, 20 * KB * KB);
    assert_eq!((vs.limits.inbound_connections, vs.limits.max_recipients), (1000, 5000));
    assert_eq!(vs.relay.mode, ListMode::AllExcept);
    assert_eq!(vs.relay.list.ips.0.len(), 2);
    assert!(!vs.relay.allow_authenticated);
    assert_eq!(config.delivery.max_hop_count, 30);
    let names: Vec<(&str, DomainKind, bool)> =
        config.domains.iter().map(|d| (d.name.as_str(), d.kind, d.allow_relay)).collect();
    assert_eq!(
        names,
        vec![
            ("example.com", DomainKind::Local, false),
            ("example.org", DomainKind::Alias, false),
            ("*.partner.example", DomainKind::Remote, true),
        ]
    );
    assert_eq!(config.admin.listen, None);
}

#[test]
fn virtual_server_overrides_merge_key_by_key() {
    let config = parse(
        r#"
        [server]
        default_domain = "example.com"
        [limits]
        max_message_size = "1MB"
        max_recipients = 50
        [relay]
        list = ["10.0.0.0/8"]
        [[virtual_server]]
        name = "plain"
        bind = ["192.0.2.1:25"]
        [[virtual_server]]
        name = "bulk"
        bind = ["192.0.2.2:25"]
        default_domain = "bulk.example.com"
        limits = { max_recipients = 1000 }
        [virtual_server.relay]
        mode = "all_except"
        list = ["domain:Partner.example", "192.0.2.0/24"]
        [virtual_server.access]
        list = ["domain:spam.example"]
        [access]
        mode = "only"
        list = ["10.0.0.0/8"]
        "#,
    )
    .unwrap();
    let [plain, bulk] = &config.virtual_servers[..] else { panic!("two servers expected") };
    assert_eq!(plain.default_domain, "example.com");
    assert_eq!(plain.limits.max_recipients, 50);
    assert_eq!(plain.limits.max_message_size, KB * KB);
    assert_eq!(plain.relay.mode, ListMode::Only);
    assert_eq!(bulk.default_domain, "bulk.example.com");
    assert_eq!(bulk.limits.max_recipients, 1000);
    assert_eq!(bulk.limits.max_message_size, KB * KB, "site value kept");
    assert_eq!(bulk.limits.connection_timeout, Duration::from_secs(600), "default kept");
    assert_eq!(bulk.relay.mode, ListMode::AllExcept);
    assert_eq!(bulk.relay.list.domains, ["partner.example"]);
    assert_eq!(bulk.relay.list.ips, IpList(vec![IpNet::parse("192.0.2.0/24").unwrap()]));
    assert_eq!(plain.relay.list.ips, IpList(vec![IpNet::parse("10.0.0.0/8").unwrap()]), "site list");
    assert_eq!((plain.access.mode, bulk.access.mode), (ListMode::Only, ListMode::Only), "site mode kept");
    assert_eq!(plain.access.list.ips.0.len(), 1);
    assert_eq!(
        (bulk.access.list.ips.0.len(), bulk.access.list.domains.as_slice()),
        (0, &["spam.example".to_string()][..])
    );
    assert!(bulk.relay.allow_authenticated);
}

/// The `[delivery]` keys refused in this stage are already parsed and checked.
#[test]
fn delivery_keys_parse_once_supported() {
    let text = r#"
        [delivery]
        outbound_connections = 50
        connections_per_domain = 5
        messages_per_connection = 0
        retry_intervals = ["1m", 120]
        subsequent_retry_interval = "2h"
        max_retries = 3
        delay_notification = "30m"
        expiration = "1d"
        masquerade_domain = "Example.com"
        smart_host = "[192.0.2.9]:2525"
        attempt_direct_before_smart_host = true
        reverse_dns_lookup = true
        ndr_copy_to = "postmaster@example.com"
        dns_servers = ["192.0.2.53", "[2001:db8::53]:5353"]
        remote_port = 2525
    "#;
    let d = parse_with(text, &[]).unwrap().delivery;
    assert_eq!((d.outbound_connections, d.connections_per_domain, d.messages_per_connection), (50, 5, 0));
    assert_eq!(d.retry_intervals, vec![Duration::from_secs(60), Duration::from_secs(120)]);
    assert_eq!(d.subsequent_retry_interval, Duration::from_secs(7200));
    assert_eq!((d.max_retries, d.remote_port), (3, 2525));
    assert_eq!(d.delay_notification, Duration::from_secs(1800));
    assert_eq!(d.expiration, Duration::from_secs(86400));
    assert_eq!(d.masquerade_domain, "example.com");
    assert_eq!(d.smart_host, "[192.0.2.9]:2525");
    assert!(d.attempt_direct_before_smart_host && d.reverse_dns_lookup);
    assert_eq!(d.ndr_copy_to, "postmaster@example.com");
    assert_eq!(d.dns_servers, vec![addr("192.0.2.53:53"), addr("[2001:db8::53]:5353")]);
    assert_default_delivery(&parse_with("[delivery]", &[]).unwrap().delivery);
}

#[test]
fn connectors_parse_with_defaults() {
    let config = parse(
        r#"
        [[connector]]
        name = "to-partner"
        address_spaces = [{ domain = "*.Partner.Example", cost = 10 }, { domain = "partner.example" }]
        smart_hosts = ["[192.0.2.9]", "Relay.Example:2525"]
        allow_relay = true
        [[connector]]
        name = "everything"
        address_spaces = [{ domain = "*", cost = 100 }]
        use_dns = true
        [[connector]]
        name = "explicit"
        address_spaces = [{ domain = "x.example", cost = 1 }]
        smart_hosts = ["x.relay"]
        use_dns = false
        "#,
    )
    .unwrap();
    let want = vec![
        Connector {
            name: "to-partner".into(),
            address_spaces: vec![("*.partner.example".into(), 10), ("partner.example".into(), 1)],
            target: ConnectorTarget::SmartHosts(vec!["[192.0.2.9]".into(), "relay.example:2525".into()]),
            allow_relay: true,
        },
        Connector {
            name: "everything".into(),
            address_spaces: vec![("*".into(), 100)],
            target: ConnectorTarget::Dns,
            allow_relay: false,
        },
        Connector {
            name: "explicit".into(),
            address_spaces: vec![("x.example".into(), 1)],
            target: ConnectorTarget::SmartHosts(vec!["x.relay".into()]),
            allow_relay: false,
        },
    ];
    assert_eq!(config.connectors, want);
    assert!(parse("").unwrap().connectors.is_empty());
}

#[test]
fn display_is_one_line_per_error() {
    let errors = ConfigErrors(vec![
        ConfigError { path: "limits.max_recipients".into(), reason: "must not be 0".into() },
        ConfigError { path: "tls".into(), reason: "not supported yet".into() },
    ]);
    assert_eq!(errors.to_string(), "limits.max_recipients: must not be 0\ntls: not supported yet");
    let boxed: Box<dyn std::error::Error> = Box::new(errors);
    assert!(boxed.to_string().contains("tls: not supported yet"));
}

#[test]
fn load_reads_a_file_or_reports_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tern.toml");
    std::fs::write(&file, EMBEDDED_DEFAULT).unwrap();
    assert_eq!(load(&file).unwrap(), parse(EMBEDDED_DEFAULT).unwrap());
    let missing = dir.path().join("missing.toml");
    let errors = load(&missing).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, "<file>");
    assert!(errors[0].reason.contains("missing.toml"), "{}", errors[0].reason);
}

#[test]
fn outbound_security_defaults_and_domain_overrides_key_by_key() {
    let config = parse("").unwrap();
    let anonymous = OutboundSecurity {
        auth: AuthMode::Anonymous,
        username: String::new(),
        password: String::new(),
        tls: false,
        allow_plaintext_auth: false,
    };
    assert_eq!(config.delivery.outbound_security, anonymous);
    let text = "[delivery.outbound_security]\nauth = \"basic\"\nusername = \"u\"\npassword = \"p\"\n\
                [[domain]]\nname = \"a.example\"\nkind = \"remote\"\n\
                outbound_security = { tls = true, allow_plaintext_auth = true }\n\
                [[domain]]\nname = \"*.b.example\"\nkind = \"remote\"\noutbound_security = { auth = \"anonymous\" }\n\
                [[domain]]\nname = \"c.example\"\nkind = \"remote\"\n";
    let config = parse(text).unwrap();
    let site = OutboundSecurity { auth: AuthMode::Basic, username: "u".into(), password: "p".into(), ..anonymous };
    assert_eq!(config.delivery.outbound_security, site);
    let a = OutboundSecurity { tls: true, allow_plaintext_auth: true, ..site.clone() };
    assert_eq!(config.domains[0].outbound_security, Some(a));
    let b = OutboundSecurity { auth: AuthMode::Anonymous, ..site };
    assert_eq!(config.domains[1].outbound_security, Some(b));
    assert_eq!(config.domains[2].outbound_security, None);
    assert!(!format!("{config:?}").contains("\"p\""), "Debug hides the password");
}
