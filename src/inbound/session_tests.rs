//! Table tests of the pure session state machine: command lines in, replies and steps out.

use std::rc::Rc;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use super::message::DataInfo;
use super::session::{Session, Step};
use super::{VsContext, VsSecurity};
use crate::admin::metrics::Metrics;
use crate::config;
use crate::policy::ClientName;

fn session(extra: &str) -> Session {
    session_with(extra, &VsSecurity::default())
}

/// A session of a virtual server configured with `extra` and given certificate and users.
pub(super) fn session_with(extra: &str, security: &VsSecurity) -> Session {
    let text = format!(
        "[server]\nfqdn = \"mx.test\"\ndefault_domain = \"tern.test\"\nshards = 1\n\
         [[virtual_server]]\nname = \"vs\"\nbind = [\"127.0.0.1:2525\"]\n{extra}"
    );
    let config = config::parse(&text).unwrap();
    let metrics = Metrics::new(vec!["vs".into()], 1);
    let vs = &config.virtual_servers[0];
    let ctx = VsContext::new(&config, 0, vs, security, Arc::new(AtomicU32::new(0)), metrics.shards[0].clone());
    Session::new(Rc::new(ctx), "127.0.0.1".parse().unwrap())
}

/// The first line of the reply of a step, or a tag for steps without one.
fn first_line(step: &Step) -> String {
    let reply = match step {
        Step::Reply(r) | Step::Data(r) => r,
        Step::Close(r) => return format!("close {}", text(r)),
        Step::Bdat { discard: Some(r), .. } => return format!("discard {}", text(r)),
        Step::Bdat { size, last, first, discard: None } => return format!("bdat {size} {last} {first}"),
        Step::Lookup => return "lookup".to_string(),
        Step::StartTls(r) => return format!("starttls {}", text(r)),
        Step::Verify(c) => return format!("verify {} {}", c.user, String::from_utf8_lossy(&c.password)),
    };
    text(reply)
}

pub(super) fn text(reply: &crate::proto::reply::Reply) -> String {
    let mut out = Vec::new();
    reply.encode(&mut out);
    String::from_utf8(out).unwrap().lines().next().unwrap().to_string()
}

pub(super) fn run(session: &mut Session, table: &[(&str, &str)]) {
    for (line, want) in table {
        let got = first_line(&session.command(line.as_bytes()));
        assert!(got.starts_with(want), "{line:?}: got {got:?}, want {want:?}");
    }
}

#[test]
fn transaction_sequence_table() {
    let mut s = session("[relay]\nlist = []\n[[domain]]\nname = \"alias.test\"\nkind = \"alias\"\n");
    run(
        &mut s,
        &[
            ("MAIL FROM:<a@b.test>", "503 5.5.1"),
            ("EHLO c.test", "250-mx.test Hello [127.0.0.1]"),
            ("RCPT TO:<x@tern.test>", "503 5.5.1"),
            ("MAIL FROM:<a@b.test> SIZE=999999999", "552 5.3.4"),
            ("MAIL FROM:<a@b.test>", "250 2.1.0"),
            ("MAIL FROM:<a@b.test>", "503 5.5.1"),
            ("DATA", "503 5.5.1"),
            ("RCPT TO:<x@far.test>", "550 5.7.1"),
            ("RCPT TO:<x@ALIAS.test>", "250 2.1.5"),
            ("RCPT TO:<postmaster>", "250 2.1.5"),
            ("DATA", "354 2.0.0"),
        ],
    );
}

#[test]
fn bdat_steps_table() {
    let mut s = session("");
    run(
        &mut s,
        &[
            ("BDAT 5", "discard 503 5.5.1"),
            ("HELO c.test", "250 mx.test Hello"),
            ("MAIL FROM:<>", "250 2.1.0"),
            ("RCPT TO:<x@tern.test>", "250 2.1.5"),
            ("BDAT 5", "bdat 5 false true"),
            ("BDAT 0 LAST", "bdat 0 true false"),
            ("DATA", "503 5.5.1"),
            ("RCPT TO:<y@tern.test>", "503 5.5.1"),
            ("RSET", "250 2.0.0"),
            ("BDAT 1 LAST", "discard 503"),
        ],
    );
}

#[test]
fn finish_refuses_oversize_bare_eol_and_too_many_hops() {
    let mut s = session("[delivery]\nmax_hop_count = 2\n");
    let open = |s: &mut Session| {
        run(s, &[("EHLO c", "250"), ("MAIL FROM:<a@b.test>", "250"), ("RCPT TO:<x@tern.test>", "250")])
    };
    let ok = DataInfo { oversize: false, bare_eol: false };
    open(&mut s);
    let err = s.finish("ID", b"x\r\n", DataInfo { oversize: true, ..ok }).unwrap_err();
    assert_eq!((err.code, err.status.unwrap().to_string()), (552, "5.3.4".into()));
    open(&mut s);
    let err = s.finish("ID", b"x\r\n", DataInfo { bare_eol: true, ..ok }).unwrap_err();
    assert_eq!((err.code, err.status.unwrap().to_string()), (550, "5.5.2".into()));
    open(&mut s);
    let hops = b"Received: a\r\nReceived: b\r\nreceived: c\r\n\r\nbody\r\n";
    let err = s.finish("ID", hops, ok).unwrap_err();
    assert_eq!((err.code, err.status.unwrap().to_string()), (554, "5.4.6".into()));
    open(&mut s);
    let accepted = s.finish("ID", &hops[13..], ok).unwrap();
    assert_eq!(accepted.meta.recipients, ["x@tern.test"]);
    assert_eq!(accepted.meta.reverse_path, "a@b.test");
}

#[test]
fn twenty_errors_close_the_session() {
    let mut s = session("");
    for _ in 0..19 {
        assert!(matches!(s.command(b"BOGUS"), Step::Reply(r) if r.code == 500));
    }
    assert!(matches!(s.command(b"BOGUS"), Step::Close(r) if r.code == 421));
}

#[test]
fn authenticated_sessions_may_relay_unless_allow_authenticated_is_off() {
    let mut s = session("");
    run(&mut s, &[("EHLO c", "250"), ("MAIL FROM:<a@b.test>", "250"), ("RCPT TO:<x@far.test>", "550 5.7.1")]);
    s.auth_user = Some("alice".into());
    run(&mut s, &[("RCPT TO:<x@far.test>", "250 2.1.5")]);
    let mut s = session("[relay]\nallow_authenticated = false\n");
    s.auth_user = Some("alice".into());
    run(&mut s, &[("EHLO c", "250"), ("MAIL FROM:<a@b.test>", "250"), ("RCPT TO:<x@far.test>", "550 5.7.1")]);
}

#[test]
fn relay_domain_entries_ask_for_the_client_name_once() {
    let mut s = session("[relay]\nlist = [\"domain:client.example\"]\n");
    run(&mut s, &[("EHLO c", "250"), ("MAIL FROM:<a@b.test>", "250"), ("RCPT TO:<x@tern.test>", "250 2.1.5")]);
    assert_eq!(s.command(b"RCPT TO:<x@far.test>"), Step::Lookup, "local recipients need no lookup");
    let confirmed = vec!["mx.client.example".to_string()];
    s.set_client_name(ClientName::Answered { ptr: confirmed.clone(), confirmed });
    run(&mut s, &[("RCPT TO:<x@far.test>", "250 2.1.5")]);
    let mut s = session("[relay]\nlist = [\"domain:client.example\"]\n");
    s.set_client_name(ClientName::Failed);
    run(&mut s, &[("EHLO c", "250"), ("MAIL FROM:<a@b.test>", "250"), ("RCPT TO:<x@far.test>", "550 5.7.1")]);
}

#[test]
fn address_tricks_never_open_the_relay() {
    let mut s = session("[[domain]]\nname = \"partner.test\"\nkind = \"remote\"\nallow_relay = true\n");
    run(
        &mut s,
        &[
            ("EHLO c", "250"),
            ("MAIL FROM:<a@b.test>", "250"),
            ("RCPT TO:<user%far.test@tern.test>", "550 5.7.1 Address form"),
            ("RCPT TO:<far.test!user@tern.test>", "550 5.7.1 Address form"),
            ("RCPT TO:<far.test!user>", "550 5.7.1 Address form"),
            ("RCPT TO:<\"user@far.test\"@tern.test>", "550 5.7.1 Address form"),
            ("RCPT TO:<@tern.test:user@far.test>", "550 5.7.1 Relaying denied for <user@far.test>"),
            ("RCPT TO:<@far.test,@x.test:user@tern.test>", "250 2.1.5"),
            ("RCPT TO:<user@[127.0.0.1]>", "550 5.7.1 Relaying denied"),
            ("RCPT TO:<user@[IPv6:::1]>", "550 5.7.1 Relaying denied"),
            ("RCPT TO:<user@tern.test.>", "501 5.1.3"),
            ("RCPT TO:<USER@TeRn.TeSt>", "250 2.1.5"),
            ("RCPT TO:<user%far.test@partner.test>", "550 5.7.1 Relaying denied"),
            ("RCPT TO:<user@far.test@tern.test>", "501 5.1.3"),
        ],
    );
    let tx = s.tx.as_ref().unwrap();
    assert_eq!(tx.rcpts, ["user@tern.test", "USER@TeRn.TeSt"]);
}

#[test]
fn access_lists_decide_admission() {
    use crate::policy::{DenyReason, Verdict};
    let s = session("[access]\nmode = \"only\"\nlist = [\"127.0.0.0/8\"]\n");
    assert_eq!(s.admission(), Verdict::Allow);
    let s = session("[access]\nlist = [\"127.0.0.1\"]\n");
    assert_eq!(s.admission(), Verdict::Deny(DenyReason::Ip));
    let mut s = session("[access]\nmode = \"only\"\nlist = [\"domain:client.example\"]\n");
    assert_eq!(s.admission(), Verdict::NeedName);
    s.set_client_name(ClientName::Failed);
    assert_eq!(s.admission(), Verdict::Deny(DenyReason::Dns));
    let reply = s.refuse_connection(DenyReason::Dns);
    assert_eq!((reply.code, reply.status.unwrap().to_string()), (554, "5.7.1".into()));
}

#[test]
fn a_recipient_given_twice_gets_one_copy() {
    let mut s = session("");
    run(
        &mut s,
        &[
            ("EHLO c", "250"),
            ("MAIL FROM:<a@b.test>", "250"),
            ("RCPT TO:<bob@tern.test>", "250 2.1.5"),
            ("RCPT TO:<bob@TERN.test>", "250 2.1.5"),
            ("RCPT TO:<Bob@tern.test>", "250 2.1.5"),
            ("RCPT TO:<bob>", "250 2.1.5"),
        ],
    );
    assert_eq!(s.tx.as_ref().unwrap().rcpts, ["bob@tern.test", "Bob@tern.test"]);
}
