//! SMTP connectors end to end: the cheapest connector for `*.partner.test` is dead, so mail
//! goes out through the next cost; a connector's `allow_relay` opens its address spaces.

mod common;

use common::sink::{Behaviour, Sink};
use common::{base_config, free_port, unique_ip, wait_until, Smtp, Tern};
use std::time::Duration;

/// The reply to `RCPT TO:<rcpt>` in the open transaction.
fn rcpt(smtp: &mut Smtp, rcpt: &str) -> String {
    smtp.send(format!("RCPT TO:<{rcpt}>\r\n"));
    smtp.read_reply()
}

#[test]
fn mail_takes_the_next_cost_when_the_cheapest_connector_is_down_and_relay_follows_allow_relay() {
    let sink = Sink::start(&unique_ip(), 0, Behaviour::default());
    let closed_ip = unique_ip();
    let closed = format!("[{closed_ip}]:{}", free_port(&closed_ip));
    // The dearer connector comes first in the file: cost, not file order, decides.
    let tern = Tern::start(&base_config(&format!(
        r#"
[[connector]]
name = "backup"
address_spaces = [{{ domain = "*.partner.test", cost = 20 }}]
smart_hosts = ["[{}]:{}"]

[[connector]]
name = "primary"
address_spaces = [{{ domain = "*.partner.test", cost = 10 }}]
smart_hosts = ["{closed}"]
allow_relay = true

[[connector]]
name = "closed"
address_spaces = [{{ domain = "closed.test" }}]
smart_hosts = ["[{}]:{}"]
"#,
        sink.addr.ip(),
        sink.addr.port(),
        sink.addr.ip(),
        sink.addr.port(),
    )));

    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<alice@sender.test>", 250);
    assert_eq!(rcpt(&mut smtp, "bob@a.partner.test"), "250 2.1.5 Recipient OK");
    assert_eq!(rcpt(&mut smtp, "carol@x.y.partner.test"), "250 2.1.5 Recipient OK");
    for refused in ["dave@partner.test", "erin@closed.test", "frank@far.test"] {
        assert!(rcpt(&mut smtp, refused).starts_with("550 5.7.1 "), "{refused} needs relay permission");
    }
    smtp.cmd("DATA", 354);
    smtp.send("Subject: via connector\r\n\r\nhello\r\n.\r\n");
    assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));

    wait_until(Duration::from_secs(20), || sink.count() == 2, || format!("{} at the cost-20 sink", sink.count()));
    let mut to: Vec<String> = sink.messages().into_iter().flat_map(|m| m.to).collect();
    to.sort();
    assert_eq!(to, ["bob@a.partner.test", "carol@x.y.partner.test"]);
    assert!(sink.messages().iter().all(|m| m.from == "alice@sender.test" && m.data.ends_with("\r\nhello\r\n")));
    tern.wait_metric("tern_queue_messages", 0.0);
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"relay\"}"), 3.0);
}
