//! A remote domain with `allow_relay = true` takes mail from anyone, but not sender-specified
//! routing in the local part (`user%far.example@partner.example`, a bang path, a quoted `@`):
//! the partner could act on it and relay further, so such a recipient needs relay permission
//! like any remote one (550 5.7.1 here). Postfix treats relay_domains the same way.

mod common;

use common::{base_config, Tern};

#[test]
fn routing_local_parts_are_refused_for_allow_relay_domains() {
    let tern =
        Tern::start(&base_config("[[domain]]\nname = \"partner.example\"\nkind = \"remote\"\nallow_relay = true\n"));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<user@partner.example>", 250);
    let mut accepted = Vec::new();
    for rcpt in
        ["user%far.example@partner.example", "far.example!user@partner.example", "\"user@far.example\"@partner.example"]
    {
        smtp.send(format!("RCPT TO:<{rcpt}>\r\n"));
        let reply = smtp.read_reply();
        if !reply.starts_with("550 5.7.1 ") {
            accepted.push((rcpt, reply));
        }
    }
    assert!(accepted.is_empty(), "sender-specified routing accepted for relay: {accepted:#?}");
}
