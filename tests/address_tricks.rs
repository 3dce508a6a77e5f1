//! Address tricks never open the relay: the raw transcript of each (percent hack, bang path,
//! source route, quoted `@`, address literal, trailing dot, mixed case) from a client that may
//! not relay, and where the mail that was accepted went.

mod common;

use common::{base_config, read, Tern};

#[test]
fn each_trick_is_refused_or_read_strictly() {
    let tern = Tern::start(&base_config(""));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    let transcript = [
        ("RCPT TO:<user%far.example@tern.test>", "550 5.7.1 Address form not accepted"),
        ("RCPT TO:<far.example!user@tern.test>", "550 5.7.1 Address form not accepted"),
        ("RCPT TO:<far.example!user>", "550 5.7.1 Address form not accepted"),
        ("RCPT TO:<\"user@far.example\"@tern.test>", "550 5.7.1 Address form not accepted"),
        ("RCPT TO:<\"user\\@far.example\"@tern.test>", "550 5.7.1 Address form not accepted"),
        ("RCPT TO:<user@far.example@tern.test>", "501 5.1.3 "),
        ("RCPT TO:<@tern.test:user@far.example>", "550 5.7.1 Relaying denied for <user@far.example>"),
        ("RCPT TO:<@tern.test,@mx.tern.test:user@far.example>", "550 5.7.1 Relaying denied"),
        ("RCPT TO:<user@[127.0.0.1]>", "550 5.7.1 Relaying denied for <user@[127.0.0.1]>"),
        ("RCPT TO:<user@[IPv6:::1]>", "550 5.7.1 Relaying denied"),
        ("RCPT TO:<user@tern.test.>", "501 5.1.3 "),
        ("RCPT TO:<user@far.example.>", "501 5.1.3 "),
        ("RCPT TO:<user@FAR.example>", "550 5.7.1 Relaying denied"),
        ("RCPT TO:<@far.example:route@tern.test>", "250 2.1.5 "),
        ("RCPT TO:<Mixed@TeRn.TeSt>", "250 2.1.5 "),
    ];
    for (line, want) in transcript {
        smtp.send(format!("{line}\r\n"));
        let reply = smtp.read_reply();
        assert!(reply.starts_with(want), "{line}: got {reply:?}, want {want:?}");
    }
    smtp.cmd("DATA", 354);
    smtp.send("Subject: tricks\r\n\r\nbody\r\n.\r\n");
    assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    smtp.cmd("QUIT", 221);
    common::wait_until(std::time::Duration::from_secs(60), || tern.drop_files().len() == 1, || "no drop file".into());
    let text = read(&tern.drop_files()[0]);
    assert!(text.contains("X-Receiver: route@tern.test\r\n"), "{text}");
    assert!(text.contains("X-Receiver: Mixed@TeRn.TeSt\r\n"), "{text}");
    assert_eq!(text.matches("X-Receiver:").count(), 2, "{text}");
    // Nothing queued for a remote domain (the Drop file comes before the spool's done record).
    tern.wait_metric("tern_queue_messages", 0.0);
    let rejected = |reason: &str| {
        tern.metric(&format!("tern_messages_rejected_total{{virtual_server=\"main\",reason=\"{reason}\"}}"))
    };
    assert_eq!((rejected("address_form"), rejected("relay")), (5.0, 5.0));
}
