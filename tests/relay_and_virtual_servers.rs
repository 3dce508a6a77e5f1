//! Relay closed by default, opened by `[relay]` lists (IP, CIDR, all_except) or a remote
//! domain's `allow_relay`; and two virtual servers with their own names, domains and limits.

mod common;

use common::{base_config, wait_until, Smtp, Tern};
use std::time::Duration;

/// The reply to `RCPT TO:<rcpt>` after EHLO and MAIL on a fresh connection.
fn rcpt_reply(smtp: &mut Smtp, rcpt: &str) -> String {
    smtp.cmd("EHLO a.test", 250);
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    smtp.send(format!("RCPT TO:<{rcpt}>\r\n"));
    smtp.read_reply()
}

#[test]
fn relay_lists_decide_who_may_relay() {
    // Test clients connect from 127.0.0.1.
    let cases = [
        ("", false),
        ("[relay]\nlist = [\"127.0.0.1\"]\n", true),
        ("[relay]\nlist = [\"127.0.0.0/8\"]\n", true),
        ("[relay]\nlist = [\"127.0.0.2\", \"::1\"]\n", false),
        ("[relay]\nmode = \"all_except\"\nlist = [\"127.0.0.1/32\"]\n", false),
        ("[relay]\nmode = \"all_except\"\nlist = [\"10.0.0.0/8\"]\n", true),
    ];
    for (section, allowed) in cases {
        let tern = Tern::start(&base_config(section));
        let reply = rcpt_reply(&mut tern.connect(), "someone@far.example");
        if allowed {
            assert_eq!(reply, "250 2.1.5 Recipient OK", "{section}");
        } else {
            assert_eq!(reply, "550 5.7.1 Relaying denied for <someone@far.example>", "{section}");
        }
    }
}

#[test]
fn a_remote_domain_with_allow_relay_accepts_mail_which_stays_queued() {
    let tern = Tern::start(&base_config(
        "[[domain]]\nname = \"partner.example\"\nkind = \"remote\"\nallow_relay = true\n\
         [[domain]]\nname = \"*.wild.example\"\nkind = \"remote\"\nallow_relay = true\n",
    ));
    let mut smtp = tern.connect();
    assert_eq!(rcpt_reply(&mut smtp, "x@partner.example"), "250 2.1.5 Recipient OK");
    assert_eq!(smtp.cmd("RCPT TO:<y@deep.wild.example>", 250), "250 2.1.5 Recipient OK");
    assert!(smtp.cmd("RCPT TO:<z@wild.example>", 550).starts_with("550 5.7.1 "));
    assert!(smtp.cmd("RCPT TO:<z@sub.partner.example>", 550).starts_with("550 5.7.1 "));
    smtp.cmd("DATA", 354);
    smtp.send("Subject: relay\r\n\r\nx\r\n.\r\n");
    assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    assert_eq!(tern.metric("tern_queue_messages"), 1.0, "remote mail stays queued");
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"relay\"}"), 2.0);
    assert!(tern.drop_files().is_empty());
}

#[test]
fn two_virtual_servers_answer_with_their_own_name_domain_and_limits() {
    let tern = Tern::start(
        r#"
[server]
fqdn = "mx.tern.test"
default_domain = "tern.test"
data_dir = "{data}"
shards = 2

[[virtual_server]]
name = "alpha"
bind = ["{ip}:{port}"]

[[virtual_server]]
name = "beta"
bind = ["{ip}:{port2}"]
default_domain = "beta.test"
limits = { max_recipients = 1 }
relay = { list = ["127.0.0.0/8"] }

[admin]
listen = "{ip}:{admin}"

[delivery]
dns_servers = ["127.0.0.1:9"]
"#,
    );
    let beta_addr = format!("{}:{}", tern.ip, tern.port2).parse().unwrap();
    let mut alpha = Smtp::connect_raw(tern.addr());
    assert_eq!(alpha.read_reply(), "220 mx.tern.test ESMTP alpha ready");
    let mut beta = Smtp::connect_raw(beta_addr);
    assert_eq!(beta.read_reply(), "220 mx.tern.test ESMTP beta ready");

    assert!(rcpt_reply(&mut alpha, "x@far.example").starts_with("550 5.7.1 "), "alpha keeps relay closed");
    assert_eq!(rcpt_reply(&mut beta, "x@far.example"), "250 2.1.5 Recipient OK");
    assert!(beta.cmd("RCPT TO:<postmaster>", 452).starts_with("452 4.5.3 "), "beta: one recipient");
    beta.cmd("RSET", 250);
    beta.cmd("MAIL FROM:<a@a.test>", 250);
    beta.cmd("RCPT TO:<postmaster>", 250);
    beta.cmd("DATA", 354);
    beta.send("Subject: beta\r\n\r\nx\r\n.\r\n");
    assert!(beta.read_reply().starts_with("250 "));
    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 1, || "drop".into());
    let content = common::read(&tern.drop_files()[0]);
    assert!(content.contains("X-Receiver: postmaster@beta.test\r\n"), "beta stamps its own domain: {content}");
    assert_eq!(tern.metric("tern_connections_inbound_total{virtual_server=\"alpha\"}"), 2.0, "harness probe + alpha");
    assert_eq!(tern.metric("tern_messages_received_total{virtual_server=\"beta\"}"), 1.0);
    assert_eq!(tern.metric("tern_messages_received_total{virtual_server=\"alpha\"}"), 0.0);
}
