//! Outbound security end to end: a route domain that requires TLS gets no mail from a remote
//! without STARTTLS (the sender gets an NDR with 5.7.10), and mail goes encrypted to one that
//! offers it.

mod common;

use common::sink::{tls_config, Behaviour, Sink};
use common::{config, unique_ip, wait_until, Tern};
use std::time::Duration;
use tern::dns::{Responder, Zone};

/// A config relaying `secure.test` to `sink` with `outbound_security = { tls = true }`.
fn tls_required_to(sink: &Sink, dns: &Responder) -> String {
    let extra = format!(
        "[delivery]\ndns_servers = [\"{}\"]\nretry_intervals = [\"1s\"]\nsubsequent_retry_interval = \"1s\"\n\
         [relay]\nlist = [\"127.0.0.0/8\"]\n\
         [[domain]]\nname = \"secure.test\"\nkind = \"remote\"\nroute_to = \"[{}]:{}\"\n\
         outbound_security = {{ tls = true }}\n",
        dns.addr(),
        sink.addr.ip(),
        sink.addr.port()
    );
    config(1, &extra)
}

fn send(tern: &Tern, subject: &str) {
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    let reply =
        smtp.send_message("alice@tern.test", &["bob@secure.test"], &format!("Subject: {subject}\r\n\r\nhi\r\n"));
    assert!(reply.starts_with("250 "), "{reply}");
}

#[test]
fn required_tls_without_starttls_bounces_to_the_sender() {
    let sink = Sink::start(&unique_ip(), 0, Behaviour::default());
    let dns = Responder::start(Zone::default()).unwrap();
    let tern = Tern::start(&tls_required_to(&sink, &dns));
    send(&tern, "secret");
    wait_until(Duration::from_secs(20), || tern.drop_files().len() == 1, || "an NDR in the drop directory".into());
    let ndr = common::read(&tern.drop_files()[0]);
    assert!(ndr.starts_with("X-Sender: <>\r\nX-Receiver: alice@tern.test\r\n"), "{ndr}");
    assert!(ndr.contains("bob@secure.test"), "{ndr}");
    assert!(ndr.contains("Status: 5.7.10"), "{ndr}");
    assert!(ndr.contains("Action: failed"), "{ndr}");
    assert_eq!(sink.count(), 0, "the remote got no message");
    let record = sink.record.lock().unwrap();
    assert_eq!(record.connections, 1, "one try, no retry");
    assert_eq!(record.last_command[0], "QUIT", "the client left after EHLO");
}

#[test]
fn required_tls_with_starttls_delivers_encrypted() {
    let sink = Sink::start(&unique_ip(), 0, Behaviour { tls: Some(tls_config()), ..Behaviour::default() });
    let dns = Responder::start(Zone::default()).unwrap();
    let tern = Tern::start(&tls_required_to(&sink, &dns));
    send(&tern, "secret");
    wait_until(Duration::from_secs(20), || sink.count() == 1, || format!("{} delivered", sink.count()));
    let message = &sink.messages()[0];
    assert!(message.tls, "the message came over TLS");
    assert_eq!(message.to, ["bob@secure.test"]);
    assert!(message.data.ends_with("Subject: secret\r\n\r\nhi\r\n"), "{:?}", message.data);
    tern.wait_metric("tern_queue_messages", 0.0);
    assert!(tern.drop_files().is_empty(), "no NDR");
}

/// A config sending everything to the smart host `sink` with site-wide basic AUTH over TLS.
fn authenticated_smart_host(sink: &Sink, dns: &Responder, password: &str) -> String {
    let extra = format!(
        "[delivery]\ndns_servers = [\"{}\"]\nsmart_host = \"[{}]:{}\"\n\
         [delivery.outbound_security]\nauth = \"basic\"\nusername = \"relay-user\"\npassword = \"{password}\"\n\
         [relay]\nlist = [\"127.0.0.0/8\"]\n",
        dns.addr(),
        sink.addr.ip(),
        sink.addr.port()
    );
    config(1, &extra)
}

#[test]
fn basic_auth_to_a_smart_host_goes_over_tls_and_a_refusal_bounces() {
    let behaviour = Behaviour {
        tls: Some(tls_config()),
        auth: Some(("relay-user".into(), "s3cret".into())),
        ..Behaviour::default()
    };
    let sink = Sink::start(&unique_ip(), 0, behaviour);
    let dns = Responder::start(Zone::default()).unwrap();
    let tern = Tern::start(&authenticated_smart_host(&sink, &dns, "s3cret"));
    send(&tern, "authenticated");
    wait_until(Duration::from_secs(20), || sink.count() == 1, || format!("{} delivered", sink.count()));
    let message = &sink.messages()[0];
    assert_eq!(message.user.as_deref(), Some("relay-user"));
    assert!(message.tls, "credentials and mail went over TLS");
    drop(tern);

    let wrong = Tern::start(&authenticated_smart_host(&sink, &dns, "wrong"));
    send(&wrong, "refused");
    wait_until(Duration::from_secs(20), || wrong.drop_files().len() == 1, || "an NDR for the refused AUTH".into());
    let ndr = common::read(&wrong.drop_files()[0]);
    assert!(ndr.contains("Status: 5.7.8"), "{ndr}");
    assert_eq!(sink.count(), 1, "nothing more arrived");
}
