//! Per-virtual-server overrides: two virtual servers share the site certificate, one requires
//! TLS and closes anonymous mail, the other takes plain mail.

mod common;

use common::tls::{write_cert, write_users};
use common::Tern;

#[test]
fn one_server_requires_tls_and_auth_the_other_does_not() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
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
users = {users:?}

[[virtual_server]]
name = "strict"
bind = ["{{ip}}:{{port}}"]
tls = {{ require = true }}
auth = {{ anonymous = false }}

[[virtual_server]]
name = "open"
bind = ["{{ip}}:{{port2}}"]

[admin]
listen = "{{ip}}:{{admin}}"

[delivery]
dns_servers = ["127.0.0.1:9"]
"#
    );
    let tern = Tern::start(&config);
    let mut open = common::Smtp::connect(format!("{}:{}", tern.ip, tern.port2).parse().unwrap());
    let ehlo = open.cmd("EHLO client.test", 250);
    assert!(ehlo.contains("STARTTLS"), "the site certificate is offered: {ehlo}");
    let reply = open.send_message("a@client.test", &["bob@tern.test"], "Subject: t\r\n\r\nhi\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
    let mut strict = tern.connect();
    strict.cmd("EHLO client.test", 250);
    strict.cmd("MAIL FROM:<a@client.test>", 530);
    strict.starttls(&[&pem]);
    strict.cmd("EHLO client.test", 250);
    let reply = strict.cmd("MAIL FROM:<a@client.test>", 530);
    assert!(reply.contains("Authentication required"), "{reply}");
    strict.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    strict.cmd("MAIL FROM:<a@client.test>", 250);
    tern.wait_metric("tern_messages_rejected_total{virtual_server=\"strict\",reason=\"auth_required\"}", 1.0);
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"open\",reason=\"tls_required\"}"), 0.0);
}
