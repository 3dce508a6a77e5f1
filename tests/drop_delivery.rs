//! Local delivery end to end: lettre sends to the default and an alias domain; the Drop file's
//! exact content is checked, and domain-less recipients are stamped with the default domain.

mod common;

use common::{base_config, read, wait_until, Tern};
use lettre::address::Envelope;
use lettre::{SmtpTransport, Transport};
use std::time::Duration;

const RAW: &str = "From: Alice <alice@sender.test>\r\nTo: bob@tern.test, carol@alias.test\r\n\
Subject: drop test\r\nMessage-ID: <m1@sender.test>\r\n\r\nHello Bob.\r\n.leading dot line\r\n..two dots\r\n\
\r\nlast line\r\n";

fn lettre_to(tern: &Tern) -> SmtpTransport {
    SmtpTransport::builder_dangerous(&tern.ip).port(tern.port).build()
}

/// Splits a Drop file into its `X-` lines, its `Received:` header (3 folded lines), and the rest.
fn split_drop(content: &str) -> (Vec<&str>, String, String) {
    let mut rest = content;
    let mut x_lines = Vec::new();
    while rest.starts_with("X-") {
        let (line, tail) = rest.split_once("\r\n").unwrap();
        x_lines.push(line);
        rest = tail;
    }
    assert!(rest.starts_with("Received: from "), "{rest}");
    let mut end = rest.find("\r\n").unwrap() + 2;
    while rest[end..].starts_with('\t') {
        end += rest[end..].find("\r\n").unwrap() + 2;
    }
    (x_lines, rest[..end].to_string(), rest[end..].to_string())
}

#[test]
fn lettre_message_to_local_and_alias_domain_lands_in_drop_exactly() {
    let tern = Tern::start(&base_config("[[domain]]\nname = \"alias.test\"\nkind = \"alias\"\n[relay]\nlist = []\n"));
    let envelope = Envelope::new(
        Some("alice@sender.test".parse().unwrap()),
        vec!["bob@tern.test".parse().unwrap(), "carol@ALIAS.test".parse().unwrap()],
    )
    .unwrap();
    let response = lettre_to(&tern).send_raw(&envelope, RAW.as_bytes()).unwrap();
    assert_eq!(response.code().to_string(), "250");
    let first = response.message().next().unwrap().to_string();
    let id = first.split("Queued as ").nth(1).unwrap_or_else(|| panic!("{first}")).to_string();

    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 1, || format!("{:?}", tern.drop_files()));
    let file = &tern.drop_files()[0];
    assert_eq!(file.file_name().unwrap().to_str().unwrap(), format!("{id}.eml"));
    let content = read(file);
    let (x_lines, received, body) = split_drop(&content);
    assert_eq!(x_lines, ["X-Sender: alice@sender.test", "X-Receiver: bob@tern.test", "X-Receiver: carol@ALIAS.test"]);
    assert!(received.contains(&format!("\tby mx.tern.test with ESMTP id {id}")), "{received}");
    assert!(received.starts_with("Received: from "), "{received}");
    assert!(received.contains(" ([127.0.0.1])\r\n"), "{received}");
    assert!(!received.contains("for <"), "two recipients: no for clause: {received}");
    // lettre ends the data with CRLF "." CRLF after the message, so one empty line follows it.
    let sent = format!("{RAW}\r\n");
    assert_eq!(body, sent, "the body is stored un-stuffed and otherwise byte for byte");
    assert!(!tern.drop_dir().read_dir().unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".tmp")));

    tern.wait_metric("tern_drop_deliveries_total{virtual_server=\"main\"}", 1.0);
    tern.wait_metric("tern_queue_messages", 0.0);
    assert_eq!(tern.metric("tern_messages_received_total{virtual_server=\"main\"}"), 1.0);
    // Wire bytes: the content plus the two dots lettre stuffed.
    assert_eq!(tern.metric("tern_bytes_received_total{virtual_server=\"main\"}"), (sent.len() + 2) as f64);
}

#[test]
fn postmaster_without_domain_is_stamped_with_the_default_domain() {
    let tern = Tern::start(&base_config(""));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let reply = smtp.send_message("", &["postmaster"], "Subject: x\r\n\r\nhi\r\n");
    assert!(reply.starts_with("250 2.0.0 Queued as "), "{reply}");
    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 1, || "no drop file".into());
    let content = read(&tern.drop_files()[0]);
    assert!(
        content.starts_with("X-Sender: <>\r\nX-Receiver: postmaster@tern.test\r\nReceived: from client.test"),
        "{content}"
    );
    assert!(content.contains("\tfor <postmaster@tern.test>; "), "{content}");
    assert!(content.ends_with("\r\nSubject: x\r\n\r\nhi\r\n"), "{content}");
}
