//! Per-virtual-server [tls] and [auth]: a virtual server with its own certificate, its own
//! users file and require_tls_for_basic = false, beside one that inherits the site's.

mod common;

use common::tls::{der, write_cert, write_users};
use common::{Smtp, Tern};

#[test]
fn certificate_users_and_require_tls_for_basic_per_virtual_server() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, site_pem) = write_cert(files.path(), "site");
    let (vcert, vkey, vs_pem) = write_cert(files.path(), "vs");
    let site_users = write_users(files.path(), &[("alice", "pw1")]);
    let other = tempfile::tempdir().unwrap();
    let vs_users = write_users(other.path(), &[("bob", "pw2")]);
    let config = format!(
        r#"
[server]
fqdn = "mx.tern.test"
default_domain = "tern.test"
data_dir = "{{data}}"
shards = 1

[tls]
certificate = {cert:?}
key = {key:?}

[auth]
users = {site_users:?}

[[virtual_server]]
name = "site"
bind = ["{{ip}}:{{port}}"]

[[virtual_server]]
name = "own"
bind = ["{{ip}}:{{port2}}"]
tls = {{ certificate = {vcert:?}, key = {vkey:?} }}
auth = {{ users = {vs_users:?}, require_tls_for_basic = false }}

[admin]
listen = "{{ip}}:{{admin}}"

[delivery]
dns_servers = ["127.0.0.1:9"]
"#
    );
    let tern = Tern::start(&config);
    let own_addr = format!("{}:{}", tern.ip, tern.port2).parse().unwrap();

    let mut site = tern.connect();
    let ehlo = site.cmd("EHLO client.test", 250);
    assert!(!ehlo.contains("AUTH"), "site: no AUTH before TLS: {ehlo}");
    site.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 538);
    site.starttls(&[&site_pem]);
    assert_eq!(site.peer_certificate().unwrap(), der(&site_pem));
    site.cmd("EHLO client.test", 250);
    site.cmd("AUTH PLAIN AGJvYgBwdzI=", 535);

    let mut own = Smtp::connect(own_addr);
    let ehlo = own.cmd("EHLO client.test", 250);
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "own: AUTH offered in clear: {ehlo}");
    own.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 535);
    let mut own = Smtp::connect(own_addr);
    own.cmd("EHLO client.test", 250);
    own.cmd("AUTH PLAIN AGJvYgBwdzI=", 235);
    let mut own = Smtp::connect(own_addr);
    own.cmd("EHLO client.test", 250);
    own.starttls(&[&vs_pem]);
    assert_eq!(own.peer_certificate().unwrap(), der(&vs_pem), "own certificate");
}
