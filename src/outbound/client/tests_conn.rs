//! End-to-end tests of the client inside a glommio executor against the scripted fake server.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};

use super::fake::{Act, Arrival, Fake, Transcript};
use super::{ClientConfig, ClientError, Delivery, Outgoing, RcptOutcome, Security, SmtpClient, Stage};
use crate::proto::reply::{Reply, Status};

use Act::{Data, Lines, Say, WaitClose};

pub(super) const BANNER: &str = "220 mx.test ESMTP\r\n";
pub(super) const EHLO_FULL: &str = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n";
const EHLO_PLAIN: &str = "250-mx.test\r\n250 HELP\r\n";
pub(super) const BODY: &[u8] = b"Subject: hi\r\n\r\nhello\r\n";

pub(super) fn cfg(command_timeout: Duration) -> ClientConfig {
    ClientConfig {
        helo_name: "client.example.net".into(),
        connect_timeout: Duration::from_secs(2),
        command_timeout,
        data_timeout: Duration::from_secs(2),
    }
}

pub(super) fn on_executor<F, Fut, T>(f: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
    T: Send + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(512 << 10)
        .spawn(f)
        .expect("executor")
        .join()
        .expect("test task")
}

/// Banner, EHLO with `ehlo`, then `rest`, then QUIT.
fn script(ehlo: &'static str, rest: Vec<Act>) -> Vec<Act> {
    let mut acts = vec![Say(BANNER), Lines(1), Say(ehlo)];
    acts.extend(rest);
    acts.extend([Lines(1), Say("221 2.0.0 bye\r\n")]);
    acts
}

/// Runs `f` on a client connected to a fake server playing `acts`; the client quits afterwards.
fn with_client<F, Fut, T>(acts: Vec<Act>, f: F) -> (T, Transcript)
where
    F: FnOnce(SmtpClient) -> Fut + Send + 'static,
    Fut: Future<Output = (T, SmtpClient)> + 'static,
    T: Send + 'static,
{
    let fake = Fake::start(acts);
    let addr = fake.addr;
    let out = on_executor(move || async move {
        let client = SmtpClient::connect(addr, "mx.test", &cfg(Duration::from_secs(2)), &Security::opportunistic())
            .await
            .expect("connect");
        let (out, client) = f(client).await;
        client.quit().await;
        out
    });
    (out, fake.finish())
}

/// Sends one message from `s@x.test` to `rcpts` with [`BODY`].
fn send_one(acts: Vec<Act>, rcpts: &'static [&'static str], eight_bit: bool) -> (Delivery, Transcript) {
    with_client(acts, move |mut client| async move {
        let msg = Outgoing { reverse_path: "s@x.test", recipients: rcpts, body: BODY, eight_bit, smtputf8: false };
        let delivery = client.send(&msg).await.expect("send");
        assert!(client.is_usable());
        (delivery, client)
    })
}

fn reply(code: u16, status: Option<Status>, text: &str) -> Reply {
    Reply { code, status, lines: vec![text.to_owned().into()] }
}

fn body_sent() -> Vec<u8> {
    [BODY, b".\r\n"].concat()
}

#[test]
fn pipelines_mail_rcpt_and_data_in_one_write() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(5),
            Say("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n"),
            Data,
            Say("250 2.0.0 queued as ABC\r\n"),
        ],
    );
    let (delivery, t) = send_one(acts, &["a@y.test", "b@y.test", "c@y.test"], true);
    assert_eq!(delivery.recipients, vec![RcptOutcome::Delivered; 3]);
    assert_eq!(delivery.data_reply, Some(reply(250, Some(Status(2, 0, 0)), "queued as ABC")));
    let size = BODY.len();
    assert_eq!(
        t.commands(),
        vec![
            "EHLO client.example.net".to_owned(),
            format!("MAIL FROM:<s@x.test> SIZE={size} BODY=8BITMIME"),
            "RCPT TO:<a@y.test>".into(),
            "RCPT TO:<b@y.test>".into(),
            "RCPT TO:<c@y.test>".into(),
            "DATA".into(),
            "QUIT".into(),
        ]
    );
    let batch: Vec<Arrival> = t.lines[1..6].iter().map(|(_, a)| *a).collect();
    assert_eq!(batch, vec![Arrival { says: 2, read: batch[0].read }; 5], "all before any reply, in one read");
    assert_eq!(t.data, vec![body_sent()]);
    assert_eq!(t.trailing, b"");
}

#[test]
fn without_pipelining_waits_for_each_reply() {
    let acts = script(
        EHLO_PLAIN,
        vec![
            Lines(1),
            Say("250 ok\r\n"),
            Lines(1),
            Say("250 ok\r\n"),
            Lines(1),
            Say("250 ok\r\n"),
            Lines(1),
            Say("354 go\r\n"),
            Data,
            Say("250 queued\r\n"),
        ],
    );
    let (delivery, t) = send_one(acts, &["a@y.test", "b@y.test"], true);
    assert_eq!(delivery.recipients, vec![RcptOutcome::Delivered; 2]);
    assert_eq!(
        t.commands(),
        ["EHLO client.example.net", "MAIL FROM:<s@x.test>", "RCPT TO:<a@y.test>", "RCPT TO:<b@y.test>", "DATA", "QUIT"]
    );
    let says: Vec<usize> = t.lines.iter().map(|(_, a)| a.says).collect();
    assert_eq!(
        says,
        vec![1, 2, 3, 4, 5, 7],
        "each command after the reply to the previous one (QUIT after 354 and 250)"
    );
    assert_eq!(t.data, vec![body_sent()]);
}

#[test]
fn pipelined_452_marks_the_rest_not_tried() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(7),
            Say("250 ok\r\n250 ok\r\n250 ok\r\n452 4.5.3 too many\r\n452 4.5.3 too many\r\n452 4.5.3 too many\r\n"),
            Say("354 go\r\n"),
            Data,
            Say("250 queued\r\n"),
        ],
    );
    let (delivery, t) = send_one(acts, &["1@y", "2@y", "3@y", "4@y", "5@y"], false);
    use RcptOutcome::{Delivered, NotTried};
    assert_eq!(delivery.recipients, vec![Delivered, Delivered, NotTried, NotTried, NotTried]);
    assert_eq!(t.data, vec![body_sent()]);
}

#[test]
fn sequential_452_stops_the_recipients() {
    let acts = script(
        EHLO_PLAIN,
        vec![
            Lines(1),
            Say("250 ok\r\n"),
            Lines(1),
            Say("250 ok\r\n"),
            Lines(1),
            Say("250 ok\r\n"),
            Lines(1),
            Say("452 too many recipients\r\n"),
            Lines(1),
            Say("354 go\r\n"),
            Data,
            Say("250 queued\r\n"),
        ],
    );
    let (delivery, t) = send_one(acts, &["1@y", "2@y", "3@y", "4@y", "5@y"], false);
    use RcptOutcome::{Delivered, NotTried};
    assert_eq!(delivery.recipients, vec![Delivered, Delivered, NotTried, NotTried, NotTried]);
    assert_eq!(
        t.commands()[1..],
        ["MAIL FROM:<s@x.test>", "RCPT TO:<1@y>", "RCPT TO:<2@y>", "RCPT TO:<3@y>", "DATA", "QUIT"]
    );
}

#[test]
fn one_refused_recipient_others_delivered() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(5),
            Say("250 ok\r\n250 ok\r\n550 5.1.1 <b@y>: no such user\r\n250 ok\r\n354 go\r\n"),
            Data,
            Say("250 queued\r\n"),
        ],
    );
    let (delivery, _) = send_one(acts, &["a@y", "b@y", "c@y"], false);
    let refused = reply(550, Some(Status(5, 1, 1)), "<b@y>: no such user");
    assert_eq!(
        delivery.recipients,
        vec![RcptOutcome::Delivered, RcptOutcome::Permanent(refused), RcptOutcome::Delivered]
    );
}

#[test]
fn data_end_4xx_is_temporary_for_accepted_recipients() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(4),
            Say("250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n"),
            Data,
            Say("451 4.3.0 try later\r\n"),
        ],
    );
    let (delivery, t) = send_one(acts, &["a@y", "b@y"], false);
    let later = reply(451, Some(Status(4, 3, 0)), "try later");
    let unknown = reply(550, Some(Status(5, 1, 1)), "unknown");
    assert_eq!(delivery.recipients, vec![RcptOutcome::Temporary(later.clone()), RcptOutcome::Permanent(unknown)]);
    assert_eq!(delivery.data_reply, Some(later));
    assert_eq!(t.commands().last(), Some(&"QUIT"), "no RSET after a completed transaction");
}

#[test]
fn all_recipients_refused_sends_no_body_and_the_next_message_works() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(4),
            Say("250 ok\r\n550 5.1.1 unknown\r\n550 5.1.1 unknown\r\n554 5.5.1 no valid recipients\r\n"),
            Lines(1),
            Say("250 2.0.0 reset\r\n"),
            Lines(3),
            Say("250 ok\r\n250 ok\r\n354 go\r\n"),
            Data,
            Say("250 queued\r\n"),
        ],
    );
    let ((first, second), t) = with_client(acts, |mut client| async move {
        let refused =
            Outgoing { reverse_path: "", recipients: &["a@y", "b@y"], body: BODY, eight_bit: false, smtputf8: false };
        let first = client.send(&refused).await.expect("first");
        assert!(client.is_usable());
        let ok = Outgoing { recipients: &["c@y"], ..refused };
        let second = client.send(&ok).await.expect("second");
        ((first, second), client)
    });
    let unknown = RcptOutcome::Permanent(reply(550, Some(Status(5, 1, 1)), "unknown"));
    assert_eq!(first, Delivery { recipients: vec![unknown.clone(), unknown], data_reply: None });
    assert_eq!(second.recipients, vec![RcptOutcome::Delivered]);
    let size = BODY.len();
    assert_eq!(
        t.commands()[1..],
        [
            format!("MAIL FROM:<> SIZE={size}"),
            "RCPT TO:<a@y>".into(),
            "RCPT TO:<b@y>".into(),
            "DATA".into(),
            "RSET".into(),
            format!("MAIL FROM:<> SIZE={size}"),
            "RCPT TO:<c@y>".into(),
            "DATA".into(),
            "QUIT".into(),
        ]
    );
    assert_eq!(t.data, vec![body_sent()], "only the second message's body");
}

#[test]
fn refused_mail_fails_every_recipient_and_resets() {
    let acts = script(EHLO_PLAIN, vec![Lines(1), Say("550 5.7.1 sender blocked\r\n"), Lines(1), Say("250 ok\r\n")]);
    let (delivery, t) = send_one(acts, &["a@y", "b@y"], false);
    let blocked = RcptOutcome::Permanent(reply(550, Some(Status(5, 7, 1)), "sender blocked"));
    assert_eq!(delivery.recipients, vec![blocked.clone(), blocked]);
    assert_eq!(t.commands()[1..], ["MAIL FROM:<s@x.test>", "RSET", "QUIT"]);
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    let acts = vec![
        Say(BANNER),
        Lines(1),
        Say("502 5.5.2 command not implemented\r\n"),
        Lines(1),
        Say("250 mx.test\r\n"),
        Lines(1),
        Say("221 bye\r\n"),
    ];
    let (caps, t) = with_client(acts, |client| async move { (client.capabilities().clone(), client) });
    assert_eq!(caps, super::Capabilities::default());
    assert_eq!(t.commands(), ["EHLO client.example.net", "HELO client.example.net", "QUIT"]);
}

/// Connects to a fake playing `acts` with `command_timeout`; returns the error and how long it took.
fn connect_error(acts: Vec<Act>, command_timeout: Duration) -> (ClientError, Duration, Transcript) {
    let fake = Fake::start(acts);
    let addr = fake.addr;
    let (error, took) = on_executor(move || async move {
        let started = Instant::now();
        let error = SmtpClient::connect(addr, "mx.test", &cfg(command_timeout), &Security::opportunistic())
            .await
            .expect_err("must fail");
        (error, started.elapsed())
    });
    (error, took, fake.finish())
}

#[test]
fn refused_banner_is_an_error_with_the_reply() {
    let cases = [("421 4.3.2 busy, try later\r\n", 421, false), ("554 5.7.1 no service for you\r\n", 554, true)];
    for (banner, code, permanent) in cases {
        let (error, _, t) = connect_error(vec![Say(banner), WaitClose], Duration::from_secs(2));
        assert!(matches!(error, ClientError::Banner { .. }), "{error:?}");
        assert_eq!(error.reply().map(|r| r.code), Some(code));
        assert_eq!(error.is_permanent(), permanent);
        assert_eq!(error.stage(), Some(Stage::Banner));
        assert!(t.lines.is_empty(), "no EHLO after a refused banner");
    }
}

#[test]
fn helo_refusal_is_permanent_and_ehlo_4xx_temporary() {
    let helo = vec![Say(BANNER), Lines(1), Say("500 no\r\n"), Lines(1), Say("550 5.7.1 go away\r\n"), WaitClose];
    let (error, _, _) = connect_error(helo, Duration::from_secs(2));
    assert!(matches!(error, ClientError::Greeting { .. }) && error.is_permanent(), "{error:?}");
    let ehlo = vec![Say(BANNER), Lines(1), Say("450 4.7.1 later\r\n"), WaitClose];
    let (error, _, t) = connect_error(ehlo, Duration::from_secs(2));
    assert!(matches!(error, ClientError::Greeting { .. }) && !error.is_permanent(), "{error:?}");
    assert_eq!(t.commands(), ["EHLO client.example.net"]);
}

#[test]
fn silent_server_times_out_within_the_timeout() {
    let (error, took, _) = connect_error(vec![WaitClose], Duration::from_millis(300));
    assert!(matches!(error, ClientError::Timeout { stage: Stage::Banner, .. }), "{error:?}");
    assert!(!error.is_permanent());
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn garbage_banner_is_a_protocol_error() {
    let (error, _, _) = connect_error(vec![Say("hello there\r\n"), WaitClose], Duration::from_secs(2));
    assert!(matches!(error, ClientError::Protocol { stage: Stage::Banner, .. }), "{error:?}");
    assert!(!error.is_permanent());
}

#[test]
fn connect_refused_is_a_temporary_connect_error() {
    let addr: SocketAddr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let error = on_executor(move || async move {
        SmtpClient::connect(addr, "mx.test", &cfg(Duration::from_secs(1)), &Security::opportunistic())
            .await
            .expect_err("nobody listens")
    });
    assert!(matches!(error, ClientError::Connect { .. }), "{error:?}");
    assert_eq!(error.addr(), addr);
    assert!(!error.is_permanent());
}

/// Wire-form bodies: stuffed dots, one larger than a single write, one without a final CRLF, empty.
fn bodies() -> Vec<Vec<u8>> {
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    while big.len() < 100 * 1024 {
        big.extend_from_slice(b"..a stuffed line\r\nplain line with some text in it\r\n...\r\n");
    }
    vec![
        b"Subject: dots\r\n\r\n..one\r\n...two\r\n..\r\nend\r\n".to_vec(),
        big,
        b"no final line end".to_vec(),
        Vec::new(),
    ]
}

#[test]
fn bodies_are_sent_byte_exact_with_the_end_of_data() {
    let mut acts = Vec::new();
    for _ in 0..4 {
        acts.extend([Lines(3), Say("250 ok\r\n250 ok\r\n354 go\r\n"), Data, Say("250 ok\r\n")]);
    }
    let (deliveries, t) = with_client(script(EHLO_FULL, acts), |mut client| async move {
        let mut deliveries = Vec::new();
        for body in bodies() {
            let msg =
                Outgoing { reverse_path: "s@x", recipients: &["r@y"], body: &body, eight_bit: false, smtputf8: false };
            deliveries.push(client.send(&msg).await.expect("send").recipients);
        }
        (deliveries, client)
    });
    assert_eq!(deliveries, vec![vec![RcptOutcome::Delivered]; 4]);
    let expected: Vec<Vec<u8>> = bodies()
        .into_iter()
        .map(|body| match body.is_empty() || body.ends_with(b"\r\n") {
            true => [&body[..], b".\r\n"].concat(),
            false => [&body[..], b"\r\n.\r\n"].concat(),
        })
        .collect();
    assert_eq!(t.data.len(), expected.len());
    for (got, want) in t.data.iter().zip(&expected) {
        assert!(got == want, "body differs: {} bytes sent, {} expected", got.len(), want.len());
    }
    assert_eq!(t.trailing, b"");
}

/// Connects with a 300 ms command timeout and sends one message; returns the error, whether the
/// client stayed usable, what a second `send` said, and the transcript.
fn failing_send(acts: Vec<Act>) -> (ClientError, bool, ClientError, Transcript) {
    let fake = Fake::start(acts);
    let addr = fake.addr;
    let (error, usable, again) = on_executor(move || async move {
        let mut client =
            SmtpClient::connect(addr, "mx.test", &cfg(Duration::from_millis(300)), &Security::opportunistic())
                .await
                .expect("connect");
        let msg = Outgoing { reverse_path: "s@x", recipients: &["r@y"], body: BODY, eight_bit: false, smtputf8: false };
        let error = client.send(&msg).await.expect_err("must fail");
        let usable = client.is_usable();
        let again = client.send(&msg).await.expect_err("unusable");
        client.quit().await;
        (error, usable, again)
    });
    (error, usable, again, fake.finish())
}

#[test]
fn timeout_mid_transaction_leaves_the_connection_unusable() {
    let (error, usable, again, t) = failing_send(vec![Say(BANNER), Lines(1), Say(EHLO_FULL), Lines(3), WaitClose]);
    assert!(matches!(error, ClientError::Timeout { stage: Stage::Mail, .. }), "{error:?}");
    assert!(!usable);
    assert!(matches!(again, ClientError::NotUsable { .. }), "{again:?}");
    assert_eq!(t.commands()[1..], ["MAIL FROM:<s@x> SIZE=22", "RCPT TO:<r@y>", "DATA"], "no QUIT on a dead connection");
    assert_eq!(t.trailing, b"");
}

#[test]
fn closing_421_mid_transaction_is_an_error() {
    let acts = vec![Say(BANNER), Lines(1), Say(EHLO_FULL), Lines(3), Say("421 4.3.2 shutting down\r\n"), WaitClose];
    let (error, usable, _, t) = failing_send(acts);
    assert!(matches!(error, ClientError::Closing { stage: Stage::Mail, .. }), "{error:?}");
    assert_eq!(error.reply(), Some(&reply(421, Some(Status(4, 3, 2)), "shutting down")));
    assert!(!error.is_permanent() && !usable);
    assert_eq!(t.commands().len(), 4, "EHLO, MAIL, RCPT, DATA and no QUIT");
}

#[test]
fn smtputf8_is_required_only_where_offered() {
    let (delivery, t) = with_client(script(EHLO_FULL, vec![]), |mut client| async move {
        let msg =
            Outgoing { reverse_path: "s@x", recipients: &["a@y", "b@y"], body: BODY, eight_bit: false, smtputf8: true };
        (client.send(&msg).await.expect("send"), client)
    });
    let refusal = RcptOutcome::Permanent(reply(553, Some(Status(5, 6, 7)), "remote server does not offer SMTPUTF8"));
    assert_eq!(delivery.recipients, vec![refusal.clone(), refusal]);
    assert_eq!(t.commands(), ["EHLO client.example.net", "QUIT"], "nothing sent for the message");

    let ehlo = "250-mx.test\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n";
    let acts = script(ehlo, vec![Lines(3), Say("250 ok\r\n250 ok\r\n354 go\r\n"), Data, Say("250 ok\r\n")]);
    let (delivery, t) = with_client(acts, |mut client| async move {
        let msg =
            Outgoing { reverse_path: "s@x", recipients: &["\u{e9}@y"], body: BODY, eight_bit: false, smtputf8: true };
        (client.send(&msg).await.expect("send"), client)
    });
    assert_eq!(delivery.recipients, vec![RcptOutcome::Delivered]);
    assert_eq!(t.commands()[1..3], ["MAIL FROM:<s@x> SMTPUTF8", "RCPT TO:<\u{e9}@y>"]);
}

#[test]
fn data_accepted_without_recipients_ends_an_empty_message() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(3),
            Say("250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n"),
            Data,
            Say("554 5.5.1 no valid recipients\r\n"),
            Lines(1),
            Say("250 ok\r\n"),
        ],
    );
    let (delivery, t) = send_one(acts, &["a@y"], false);
    assert_eq!(delivery.recipients, vec![RcptOutcome::Permanent(reply(550, Some(Status(5, 1, 1)), "unknown"))]);
    assert_eq!(delivery.data_reply, None);
    assert_eq!(t.data, vec![b".\r\n".to_vec()], "no body, only the end of data");
    assert_eq!(t.commands()[4..], ["RSET", "QUIT"]);
}

/// The first message's result, the second's delivery (when sent), whether the client is usable.
type TwoSent = (Result<Delivery, ClientError>, Option<Delivery>, bool);

/// Two messages on one connection, the second's envelope presented with the first's body.
fn send_two(acts: Vec<Act>) -> (TwoSent, Transcript) {
    with_client(acts, |mut client| async move {
        let first =
            Outgoing { reverse_path: "s@x.test", recipients: &["a@y"], body: BODY, eight_bit: false, smtputf8: false };
        let second = Outgoing { recipients: &["b@y"], ..first };
        let one = client.send_then(&first, Some(&second)).await;
        let two = match one.is_ok() && client.is_usable() {
            true => Some(client.send(&second).await.expect("second")),
            false => None,
        };
        let usable = client.is_usable();
        ((one, two, usable), client)
    })
}

#[test]
fn presents_the_next_envelope_with_the_body() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(3),
            Say("250 ok\r\n250 ok\r\n354 go\r\n"),
            Data,
            Lines(3),
            Say("250 queued 1\r\n"),
            Say("250 ok\r\n250 ok\r\n354 go\r\n"),
            Data,
            Say("250 queued 2\r\n"),
        ],
    );
    let ((one, two, usable), t) = send_two(acts);
    assert_eq!(one.expect("first").recipients, vec![RcptOutcome::Delivered]);
    assert_eq!(two.expect("second").recipients, vec![RcptOutcome::Delivered]);
    assert!(usable);
    let size = BODY.len();
    let envelope =
        |rcpt: &str| vec![format!("MAIL FROM:<s@x.test> SIZE={size}"), format!("RCPT TO:<{rcpt}>"), "DATA".into()];
    assert_eq!(t.commands()[1..4], envelope("a@y"));
    assert_eq!(t.commands()[4..7], envelope("b@y"), "sent once");
    assert_eq!(t.commands()[7..], ["QUIT"]);
    let second: Vec<Arrival> = t.lines[4..7].iter().map(|(_, a)| *a).collect();
    assert!(second.iter().all(|a| a.says == 3), "before the reply to the first end of data: {second:?}");
    assert_eq!(t.data, vec![body_sent(), body_sent()]);
}

#[test]
fn a_presented_envelope_is_dropped_without_quit_when_the_server_leaves() {
    let acts = vec![
        Say(BANNER),
        Lines(1),
        Say(EHLO_FULL),
        Lines(3),
        Say("250 ok\r\n250 ok\r\n354 go\r\n"),
        Data,
        Lines(3),
        Say("421 4.3.2 shutting down\r\n"),
        WaitClose,
    ];
    let ((one, two, usable), t) = send_two(acts);
    assert!(matches!(one, Err(ClientError::Closing { stage: Stage::DataEnd, .. })), "{one:?}");
    assert!(two.is_none() && !usable);
    assert_eq!(t.commands().len(), 7, "no QUIT after the presented envelope: {:?}", t.commands());
    assert_eq!(t.trailing, b"");
}

#[test]
fn no_envelope_is_presented_after_too_many_recipients() {
    let acts = script(
        EHLO_FULL,
        vec![
            Lines(4),
            Say("250 ok\r\n250 ok\r\n452 4.5.3 too many recipients\r\n354 go\r\n"),
            Data,
            Say("250 queued\r\n"),
        ],
    );
    let (delivery, t) = with_client(acts, |mut client| async move {
        let first = Outgoing {
            reverse_path: "s@x.test",
            recipients: &["a@y", "b@y"],
            body: BODY,
            eight_bit: false,
            smtputf8: false,
        };
        let next = Outgoing { recipients: &["c@y"], ..first };
        let delivery = client.send_then(&first, Some(&next)).await.expect("send");
        (delivery, client)
    });
    assert_eq!(delivery.recipients, vec![RcptOutcome::Delivered, RcptOutcome::NotTried]);
    assert_eq!(t.commands()[5..], ["QUIT"], "the next message waits for a new connection");
}
