//! Table-driven tests of every reported problem: bad values, contradictions, refused and
//! unknown keys, and syntax errors.

use super::super::*;
use super::{assert_error, errors_of};

const VS: &str = "[[virtual_server]]\nname = \"a\"\nbind = [\"192.0.2.1:25\"]\n";

#[test]
fn bad_inputs_are_reported_with_path_and_reason() {
    let many_vs = format!("{VS}{VS}");
    let cases: &[(&str, &str, &str)] = &[
        ("[limits]\nmax_message_size = \"2 furlongs\"", "limits.max_message_size", "KB, MB or GB"),
        ("[limits]\nmax_message_size = -1", "limits.max_message_size", "expected a size"),
        ("[limits]\nmax_message_size = 0", "limits.max_message_size", "must not be 0"),
        ("[limits]\nconnection_timeout = \"10 minutes\"", "limits.connection_timeout", "ms, s, m, h or d"),
        ("[limits]\nconnection_timeout = 0", "limits.connection_timeout", "must not be 0"),
        ("[limits]\nmax_recipients = 0", "limits.max_recipients", "must not be 0"),
        ("[limits]\nmax_recipients = 5000000000", "limits.max_recipients", "0 to 4294967295"),
        ("[limits]\nmax_recipients = \"100\"", "limits.max_recipients", "expected an integer"),
        ("[limits]\nmax_session_size = \"1MB\"", "limits.max_session_size", "less than max_message_size"),
        ("[server]\nshards = 100000", "server.shards", "online CPUs"),
        ("[server]\nshards = -1", "server.shards", "0 to"),
        ("[server]\nfqdn = \"mail_1.example.com\"", "server.fqdn", "not a valid domain name"),
        ("[server]\nfqdn = \"\"", "server.fqdn", "not a valid domain name"),
        ("[server]\ndefault_domain = \"-bad.example\"", "server.default_domain", "not a valid domain"),
        ("[server]\ndefault_domain = \"a..b\"", "server.default_domain", "not a valid domain"),
        ("[server]\ndata_dir = \"\"", "server.data_dir", "empty"),
        ("[server]\ndata_dir = 5", "server.data_dir", "expected a string"),
        ("server = 5", "server", "expected a table"),
        ("virtual_server = 5", "virtual_server", "array of tables"),
        ("virtual_server = []", "virtual_server", "at least one"),
        ("[[virtual_server]]\nbind = [\"192.0.2.1:25\"]", "virtual_server[0].name", "missing"),
        ("[[virtual_server]]\nname = \" \"\nbind = [\"192.0.2.1:25\"]", "virtual_server[0].name", "empty"),
        ("[[virtual_server]]\nname = \"a\"", "virtual_server[0].bind", "missing"),
        ("[[virtual_server]]\nname = \"a\"\nbind = []", "virtual_server[0].bind", "at least one"),
        ("[[virtual_server]]\nname = \"a\"\nbind = [\"192.0.2.1\"]", "virtual_server[0].bind[0]", "IP:port"),
        ("[[virtual_server]]\nname = \"a\"\nbind = [\"mx:25\"]", "virtual_server[0].bind[0]", "IP:port"),
        ("[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:0\"]", "virtual_server[0].bind[0]", "port"),
        (&many_vs, "virtual_server[1].name", "duplicate name"),
        (&many_vs, "virtual_server[1].bind[0]", "bound already by virtual_server[0].bind[0]"),
        (
            "[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\nstate = \"running\"",
            "virtual_server[0].state",
            "\"started\", \"paused\" or \"stopped\"",
        ),
        (
            "[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\nlimits = { max_message_size = \"20MB\" }",
            "virtual_server[0].limits.max_session_size",
            "less than max_message_size",
        ),
        (
            "[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\nlimits = { max_recipients = 0 }",
            "virtual_server[0].limits.max_recipients",
            "must not be 0",
        ),
        (
            "[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\ndefault_domain = \"x y\"",
            "virtual_server[0].default_domain",
            "not a valid domain",
        ),
        ("[relay]\nmode = \"some\"", "relay.mode", "\"only\" or \"all_except\""),
        ("[relay]\nlist = [\"10.0.0.1/8\"]", "relay.list[0]", "host bits"),
        ("[relay]\nlist = [\"127.0.0.1\", \"nonsense\"]", "relay.list[1]", "expected an IP address"),
        ("[relay]\nlist = [\"2001:db8::/200\"]", "relay.list[0]", "0 to 128"),
        ("[relay]\nlist = \"127.0.0.1\"", "relay.list", "expected an array"),
        ("[relay]\nallow_authenticated = \"yes\"", "relay.allow_authenticated", "true or false"),
        ("[relay]\nlist = [\"domain:bad_name.example\"]", "relay.list[0]", "not a valid domain name"),
        ("[access]\nmode = \"some\"", "access.mode", "\"only\" or \"all_except\""),
        ("[access]\nlist = [\"127.0.0.1\", \"domain:\"]", "access.list[1]", "not a valid domain name"),
        ("[access]\nlist = [\"example.net\"]", "access.list[0]", "expected an IP address"),
        ("[access]\nallow_authenticated = true", "access.allow_authenticated", "unknown key"),
        (
            "[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\naccess = { list = [\"10.0.0.1/8\"] }",
            "virtual_server[0].access.list[0]",
            "host bits",
        ),
        ("[delivery]\nreverse_dns_lookup = 1", "delivery.reverse_dns_lookup", "true or false"),
        ("[delivery]\nmax_hop_count = 0", "delivery.max_hop_count", "must not be 0"),
        ("[admin]\nlisten = \"localhost:8025\"", "admin.listen", "IP:port"),
    ];
    for (text, path, reason) in cases {
        assert_error(text, path, reason);
    }
}

#[test]
fn binds_that_would_steal_connections_are_refused() {
    let vs = |name: &str, binds: &str| format!("[[virtual_server]]\nname = \"{name}\"\nbind = [{binds}]\n");
    let bad: &[(&str, &str, &str)] = &[
        ("\"0.0.0.0:25\"", "\"192.0.2.1:25\"", "overlaps"),
        ("\"192.0.2.1:25\"", "\"0.0.0.0:25\"", "overlaps"),
        ("\"[::]:25\"", "\"[2001:db8::1]:25\"", "overlaps"),
        ("\"[::]:25\"", "\"192.0.2.1:25\"", "accepts IPv4 too"),
        ("\"0.0.0.0:25\"", "\"[::]:25\"", "overlaps"),
        ("\"192.0.2.1:25\"", "\"192.0.2.1:25\"", "bound already"),
        ("\"[::1]:25\"", "\"[0:0::1]:25\"", "bound already"),
    ];
    for (a, b, reason) in bad {
        let text = format!("{}{}", vs("a", a), vs("b", b));
        assert_error(&text, "virtual_server[1].bind[0]", reason);
        let same = vs("a", &format!("{a}, {b}"));
        assert_error(&same, "virtual_server[0].bind[1]", reason);
    }
    let good: &[(&str, &str)] = &[
        ("\"0.0.0.0:25\"", "\"192.0.2.1:2525\""),
        ("\"192.0.2.1:25\"", "\"192.0.2.2:25\""),
        ("\"0.0.0.0:25\"", "\"[2001:db8::1]:25\""),
        ("\"[::1]:25\"", "\"127.0.0.1:25\""),
    ];
    for (a, b) in good {
        let text = format!("{}{}", vs("a", a), vs("b", b));
        parse(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
    }
}

#[test]
fn domain_rules() {
    let domain = |name: &str, kind: &str| format!("[[domain]]\nname = \"{name}\"\nkind = \"{kind}\"\n");
    let site = "[server]\ndefault_domain = \"example.com\"\n";
    let cases: &[(String, &str, &str)] = &[
        (domain("bad_name.example", "remote"), "domain[0].name", "not a valid domain"),
        (domain("*.example.net", "alias"), "domain[0].name", "only allowed with kind = \"remote\""),
        (domain("a.*.example.net", "remote"), "domain[0].name", "not a valid domain"),
        (domain("example.net", "mailbox"), "domain[0].kind", "\"local\", \"alias\" or \"remote\""),
        (format!("{site}{}", domain("Example.COM", "alias")), "domain[0].kind", "default domain"),
        (format!("{site}{}", domain("other.example", "local")), "domain[0].kind", "only for the default"),
        (format!("{}{}", domain("a.example", "remote"), domain("A.example", "remote")), "domain[1].name", "duplicate"),
        ("[[domain]]\nkind = \"remote\"".into(), "domain[0].name", "missing"),
        ("[[domain]]\nname = \"x.example\"".into(), "domain[0].kind", "missing"),
        (
            "[[domain]]\nname = \"x.example\"\nkind = \"alias\"\nallow_relay = true".into(),
            "domain[0].allow_relay",
            "only applies to kind = \"remote\"",
        ),
        ("domain = { name = \"x\" }".into(), "domain", "array of tables"),
        (
            "[[domain]]\nname = \"x.example\"\nkind = \"alias\"\nroute_to = \"[192.0.2.7]\"".into(),
            "domain[0].route_to",
            "only applies to kind = \"remote\"",
        ),
    ];
    for (text, path, reason) in cases {
        assert_error(text, path, reason);
    }
    let vs_default = format!("{VS}default_domain = \"bulk.example\"\n{}", domain("bulk.example", "local"));
    assert_eq!(parse(&vs_default).unwrap().domains[0].kind, DomainKind::Local);
}

#[test]
fn connector_rules() {
    let connector = |body: &str| format!("[[connector]]\nname = \"c\"\n{body}\n");
    let ok_spaces = "address_spaces = [{ domain = \"p.example\" }]";
    let spaces = |list: &str| connector(&format!("address_spaces = [{list}]\nuse_dns = true"));
    let hosts = |list: &str| connector(&format!("{ok_spaces}\nsmart_hosts = [{list}]"));
    let cases: &[(String, &str, &str)] = &[
        (
            "[[connector]]\nuse_dns = true\naddress_spaces = [{ domain = \"p.example\" }]".into(),
            "connector[0].name",
            "missing",
        ),
        (format!("[[connector]]\nname = \" \"\n{ok_spaces}\nuse_dns = true"), "connector[0].name", "must not be empty"),
        (connector("use_dns = true"), "connector[0].address_spaces", "missing required key"),
        (spaces(""), "connector[0].address_spaces", "at least one"),
        (connector("address_spaces = \"*\"\nuse_dns = true"), "connector[0].address_spaces", "array of tables"),
        (spaces("\"p.example\""), "connector[0].address_spaces[0]", "expected a table"),
        (spaces("{ cost = 5 }"), "connector[0].address_spaces[0].domain", "missing"),
        (spaces("{ domain = \"bad_name.example\" }"), "connector[0].address_spaces[0].domain", "not a valid domain"),
        (spaces("{ domain = \"a.*.example\" }"), "connector[0].address_spaces[0].domain", "not a valid domain"),
        (spaces("{ domain = \"*.\" }"), "connector[0].address_spaces[0].domain", "not a valid domain"),
        (
            spaces("{ domain = \"a.example\" }, { domain = \"x.example\", cost = 0 }"),
            "connector[0].address_spaces[1].cost",
            "1 to 100",
        ),
        (spaces("{ domain = \"a.example\", cost = 101 }"), "connector[0].address_spaces[0].cost", "1 to 100, got 101"),
        (spaces("{ domain = \"a.example\", cost = -1 }"), "connector[0].address_spaces[0].cost", "1 to 100, got -1"),
        (spaces("{ domain = \"a.example\", cost = \"10\" }"), "connector[0].address_spaces[0].cost", "1 to 100"),
        (spaces("{ domain = \"a.example\", weight = 1 }"), "connector[0].address_spaces[0].weight", "unknown key"),
        (
            spaces("{ domain = \"A.example\" }, { domain = \"a.example\" }"),
            "connector[0].address_spaces[1].domain",
            "duplicate",
        ),
        (connector(ok_spaces), "connector[0].smart_hosts", "set smart_hosts"),
        (connector(&format!("{ok_spaces}\nuse_dns = false")), "connector[0].smart_hosts", "or use_dns = true"),
        (hosts(""), "connector[0].smart_hosts", "at least one"),
        (hosts("\"[192.0.2.1]\", \"relay:0\""), "connector[0].smart_hosts[1]", "host:port"),
        (hosts("\"[relay.example]\""), "connector[0].smart_hosts[0]", "[IP]"),
        (
            connector(&format!("{ok_spaces}\nsmart_hosts = \"relay.example\"")),
            "connector[0].smart_hosts",
            "expected an array",
        ),
        (
            connector(&format!("{ok_spaces}\nsmart_hosts = [\"relay.example\"]\nuse_dns = true")),
            "connector[0].use_dns",
            "not both",
        ),
        (connector(&format!("{ok_spaces}\nuse_dns = \"yes\"")), "connector[0].use_dns", "true or false"),
        (
            spaces("{ domain = \"a.example\" }, { domain = \"*\" }").replace("use_dns", "allow_relay = true\nuse_dns"),
            "connector[0].allow_relay",
            "open relay",
        ),
        (connector(&format!("{ok_spaces}\nuse_dns = true\ncost = 1")), "connector[0].cost", "unknown key"),
        (
            format!("{}{}", spaces("{ domain = \"a.example\" }"), spaces("{ domain = \"b.example\" }")),
            "connector[1].name",
            "duplicate connector name \"c\" (also connector[0])",
        ),
        ("connector = { name = \"c\" }".into(), "connector", "array of tables"),
    ];
    for (text, path, reason) in cases {
        assert_error(text, path, reason);
    }
}

#[test]
fn every_problem_is_reported() {
    let errors = errors_of(
        r#"
        [server]
        fqdn = "bad host"
        shards = "two"
        [[virtual_server]]
        name = "a"
        bind = ["nowhere", "192.0.2.1:25", "192.0.2.1:99999"]
        colour = "blue"
        [limits]
        max_message_size = "big"
        [relay]
        list = ["10.0.0.1/8"]
        [tls]
        certificate = "x.pem"
        [[domain]]
        name = "example.org"
        kind = "alias"
        route_to = "[192.0.2.7]"
        "#,
    );
    let want = [
        "server.fqdn",
        "server.shards",
        "virtual_server[0].bind[0]",
        "virtual_server[0].bind[2]",
        "virtual_server[0].colour",
        "limits.max_message_size",
        "relay.list[0]",
        "tls.key",
        "domain[0].route_to",
    ];
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    for path in want {
        assert!(paths.contains(&path), "{path} missing from {paths:?}");
    }
    assert_eq!(errors.len(), want.len(), "{errors:#?}");
}

#[test]
fn later_stage_keys_are_refused() {
    let cases: &[(&str, &str)] = &[
        ("[logging]\nenabled = true", "logging"),
        ("[admin]\noperators = []", "admin.operators"),
        ("[[domain]]\nname = \"p.example\"\nkind = \"remote\"\natrn = []", "domain[0].atrn"),
    ];
    for (text, path) in cases {
        let errors = errors_of(text);
        assert_eq!(errors.len(), 1, "{text}: {errors:#?}");
        assert_eq!(errors[0].path, *path, "{text}");
        assert!(errors[0].reason.contains("not supported yet"), "{text}: {errors:#?}");
    }
    assert_error(&format!("{VS}[virtual_server.logging]\nx = 1\n"), "virtual_server[0].logging", "not supported yet");
}

#[test]
fn unknown_keys_are_errors() {
    let cases: &[(&str, &str)] = &[
        ("colour = 1", "colour"),
        ("[server]\nhostname = \"x\"", "server.hostname"),
        ("[limits]\nmax_msg_size = 1", "limits.max_msg_size"),
        ("[relay]\nlists = []", "relay.lists"),
        ("[delivery]\nhops = 1", "delivery.hops"),
        ("[admin]\nport = 1", "admin.port"),
        ("[[domain]]\nname = \"x.example\"\nkind = \"remote\"\ncost = 1", "domain[0].cost"),
        (
            "[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\nlimits = { size = 1 }",
            "virtual_server[0].limits.size",
        ),
        ("[[virtual_server]]\nname = \"a\"\nbind = [\"1.2.3.4:25\"]\nrelay = { x = 1 }", "virtual_server[0].relay.x"),
    ];
    for (text, path) in cases {
        let errors = errors_of(text);
        assert_eq!(errors.len(), 1, "{text}: {errors:#?}");
        assert_eq!((errors[0].path.as_str(), errors[0].reason.as_str()), (*path, "unknown key"));
    }
}

#[test]
fn delivery_values_are_checked_once_supported() {
    let cases: &[(&str, &str, &str)] = &[
        ("remote_port = 0", "delivery.remote_port", "must not be 0"),
        ("remote_port = 70000", "delivery.remote_port", "0 to 65535"),
        ("outbound_connections = 0", "delivery.outbound_connections", "must not be 0"),
        ("retry_intervals = [\"1m\", \"soon\"]", "delivery.retry_intervals[1]", "duration"),
        ("dns_servers = [\"ns1.example\"]", "delivery.dns_servers[0]", "IP or IP:port"),
        ("dns_servers = [\"192.0.2.1:0\"]", "delivery.dns_servers[0]", "IP or IP:port"),
        ("smart_host = \"relay.example.net:\"", "delivery.smart_host", "host:port"),
        ("smart_host = \"[relay.example.net]\"", "delivery.smart_host", "[IP]"),
        ("smart_host = \"relay.example.net:0\"", "delivery.smart_host", "host:port"),
        ("smart_host = \"bad host\"", "delivery.smart_host", "not a valid domain"),
        ("masquerade_domain = \"not a domain\"", "delivery.masquerade_domain", "not a valid domain"),
        ("ndr_copy_to = \"postmaster\"", "delivery.ndr_copy_to", "expected an address"),
    ];
    for (line, path, reason) in cases {
        let text = format!("[delivery]\n{line}\n");
        let errors = parse_with(&text, &[]).expect_err(line).0;
        assert!(errors.iter().any(|e| e.path == *path && e.reason.contains(reason)), "{line}: {errors:#?}");
    }
    let hosts = ["relay.example.net", "relay.example.net:587", "[192.0.2.1]", "[2001:db8::1]:25"];
    for host in hosts {
        let text = format!("[delivery]\nsmart_host = \"{host}\"\n");
        assert_eq!(parse_with(&text, &[]).unwrap().delivery.smart_host, host);
    }
}

#[test]
fn syntax_error_is_one_error_with_position() {
    let errors = errors_of("[server]\nfqdn = \"a\"\nshards = = 2\n");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].path, "<toml>");
    assert!(errors[0].reason.starts_with("line 3, column"), "{}", errors[0].reason);
}

#[test]
fn route_to_forms() {
    let entry = |route: &str| format!("[[domain]]\nname = \"p.example\"\nkind = \"remote\"\nroute_to = \"{route}\"\n");
    let good: &[(&str, &str)] = &[
        ("relay.example.net", "relay.example.net"),
        ("Relay.Example.NET:2525", "relay.example.net:2525"),
        ("[192.0.2.7]", "[192.0.2.7]"),
        ("[192.0.2.7]:2525", "[192.0.2.7]:2525"),
        ("[2001:DB8::1]:2525", "[2001:db8::1]:2525"),
    ];
    for (route, want) in good {
        let config = parse(&entry(route)).unwrap_or_else(|e| panic!("{route}: {e}"));
        assert_eq!(config.domains[0].route_to.as_deref(), Some(*want), "{route}");
    }
    assert_eq!(
        parse(&entry("relay.example").replace("route_to = \"relay.example\"\n", "")).unwrap().domains[0].route_to,
        None
    );
    let bad: &[(&str, &str)] = &[
        ("", "host:port"),
        ("relay.example:", "host:port"),
        ("relay.example:0", "host:port"),
        ("relay.example:99999", "host:port"),
        ("[relay.example]", "[IP]"),
        ("[192.0.2.7", "[IP]"),
        ("[192.0.2.7]2525", "[IP]:port"),
        ("bad host", "not a valid domain"),
    ];
    for (route, reason) in bad {
        assert_error(&entry(route), "domain[0].route_to", reason);
    }
}

#[test]
fn outbound_security_errors_have_key_paths() {
    let site = |keys: &str| format!("[delivery.outbound_security]\n{keys}");
    let domain = |kind: &str, table: &str| {
        format!("[[domain]]\nname = \"p.example\"\nkind = \"{kind}\"\noutbound_security = {{ {table} }}")
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (site("auth = \"ntlm\""), "delivery.outbound_security.auth", "\"basic\""),
        (site("auth = \"basic\""), "delivery.outbound_security.auth", "username"),
        (site("auth = \"basic\"\nusername = \"\""), "delivery.outbound_security.username", "non-empty"),
        (site("username = \"a\\u0000b\""), "delivery.outbound_security.username", "control"),
        (site("tls = \"yes\""), "delivery.outbound_security.tls", "true or false"),
        (site("colour = 1"), "delivery.outbound_security.colour", "unknown key"),
        ("[delivery]\noutbound_security = 1".into(), "delivery.outbound_security", "expected a table"),
        (domain("alias", "tls = true"), "domain[0].outbound_security", "remote"),
        (domain("remote", "auth = \"basic\""), "domain[0].outbound_security.auth", "username"),
        (domain("remote", "tls = 1"), "domain[0].outbound_security.tls", "true or false"),
        (domain("remote", "password_file = \"x\""), "domain[0].outbound_security.password_file", "unknown key"),
    ];
    for (text, path, reason) in cases {
        let errors = errors_of(&text);
        assert_eq!(errors.len(), 1, "{text}: {errors:#?}");
        assert_eq!(errors[0].path, path, "{text}");
        assert!(errors[0].reason.contains(reason), "{text}: {errors:#?}");
    }
}
