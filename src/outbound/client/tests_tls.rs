//! End-to-end tests of STARTTLS and AUTH against the scripted fake server (rustls on its side).

use std::sync::Arc;
use std::time::Duration;

use super::fake::{tls_pair, Act, Fake, Transcript};
use super::tests_conn::{cfg, on_executor, BANNER, BODY, EHLO_FULL};
use super::{ClientError, Credentials, Outgoing, RcptOutcome, Security, SmtpClient, Stage, TlsPolicy, Verify};

use Act::{Data, Lines, Say, Tls};

const EHLO_TLS: &str = "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
const EHLO_AFTER_TLS: &str = "250-mx.test\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n";

fn security(required: bool, verify: Verify, auth: bool, allow_plaintext_auth: bool) -> Security {
    let auth = auth.then(|| Credentials { username: "user".into(), password: "pass".into() });
    Security { tls: TlsPolicy::new(required, verify), auth, allow_plaintext_auth }
}

/// Connects with `security` to a fake playing `acts`; on success reports whether the session
/// is encrypted and quits.
fn connect(acts: Vec<Act>, security: Security) -> (Result<bool, ClientError>, Transcript) {
    let fake = Fake::start(acts);
    let addr = fake.addr;
    let result = on_executor(move || async move {
        let client = SmtpClient::connect(addr, "mx.test", &cfg(Duration::from_secs(2)), &security).await?;
        let encrypted = client.is_encrypted();
        client.quit().await;
        Ok(encrypted)
    });
    (result, fake.finish())
}

/// Banner, EHLO offering STARTTLS, the handshake, EHLO again answered with `ehlo`.
fn upgrade(server: Arc<rustls::ServerConfig>, ehlo: &'static str) -> Vec<Act> {
    vec![
        Say(BANNER),
        Lines(1),
        Say(EHLO_TLS),
        Lines(1),
        Say("220 2.0.0 go ahead\r\n"),
        Tls(server),
        Lines(1),
        Say(ehlo),
    ]
}

fn quit() -> [Act; 2] {
    [Lines(1), Say("221 2.0.0 bye\r\n")]
}

#[test]
fn offered_starttls_is_used_and_mail_goes_encrypted() {
    let (server, roots) = tls_pair();
    let mut acts = upgrade(server, EHLO_FULL);
    acts.extend([Lines(3), Say("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"), Data, Say("250 2.0.0 queued\r\n")]);
    acts.extend(quit());
    let fake = Fake::start(acts);
    let addr = fake.addr;
    let (encrypted, outcomes) = on_executor(move || async move {
        let security = security(false, Verify::Roots(roots), false, false);
        let mut client = SmtpClient::connect(addr, "mx.test", &cfg(Duration::from_secs(2)), &security).await.unwrap();
        assert!(client.capabilities().size.is_some(), "capabilities come from the second EHLO");
        let msg = Outgoing {
            reverse_path: "s@x.test",
            recipients: &["r@y.test"],
            body: BODY,
            eight_bit: false,
            smtputf8: false,
        };
        let delivery = client.send(&msg).await.expect("send");
        let encrypted = client.is_encrypted();
        client.quit().await;
        (encrypted, delivery.recipients)
    });
    let t = fake.finish();
    assert!(encrypted);
    assert_eq!(outcomes, vec![RcptOutcome::Delivered]);
    let size = BODY.len();
    assert_eq!(
        t.commands(),
        vec![
            "EHLO client.example.net".to_owned(),
            "STARTTLS".into(),
            "EHLO client.example.net".into(),
            format!("MAIL FROM:<s@x.test> SIZE={size}"),
            "RCPT TO:<r@y.test>".into(),
            "DATA".into(),
            "QUIT".into(),
        ]
    );
    assert_eq!(t.tls_from, Some(2), "the second EHLO and everything after it came encrypted");
    assert_eq!(t.data, vec![[BODY, b".\r\n"].concat()]);
}

#[test]
fn required_tls_without_starttls_is_permanent_and_sends_no_mail() {
    let acts = [vec![Say(BANNER), Lines(1), Say(EHLO_FULL)], quit().into()].concat();
    let (result, t) = connect(acts, security(true, Verify::None, false, false));
    let error = result.expect_err("no STARTTLS");
    assert!(matches!(error, ClientError::TlsUnavailable { .. }), "{error:?}");
    assert!(error.is_permanent());
    assert_eq!(error.status(), "5.7.10");
    assert_eq!(error.stage(), Some(Stage::StartTls));
    assert_eq!(t.commands(), ["EHLO client.example.net", "QUIT"]);
}

#[test]
fn opportunistic_tls_without_starttls_goes_on_in_clear() {
    let acts = [vec![Say(BANNER), Lines(1), Say(EHLO_FULL)], quit().into()].concat();
    let (result, t) = connect(acts, Security::opportunistic());
    assert!(!result.expect("connect"));
    assert_eq!(t.commands(), ["EHLO client.example.net", "QUIT"]);
    assert_eq!(t.tls_from, None);
}

#[test]
fn auth_plain_sends_the_exact_initial_response_over_tls() {
    let (server, _) = tls_pair();
    let acts = [upgrade(server, EHLO_AFTER_TLS), vec![Lines(1), Say("235 2.7.0 ok\r\n")], quit().into()].concat();
    let (result, t) = connect(acts, security(false, Verify::None, true, false));
    assert!(result.expect("authenticated"));
    assert_eq!(t.commands()[2..], ["EHLO client.example.net", "AUTH PLAIN AHVzZXIAcGFzcw==", "QUIT"]);
    assert_eq!(t.tls_from, Some(2));
}

#[test]
fn auth_login_when_plain_is_not_offered() {
    let ehlo = "250-mx.test\r\n250 AUTH=LOGIN\r\n";
    let login = vec![
        Lines(1),
        Say("334 VXNlcm5hbWU6\r\n"),
        Lines(1),
        Say("334 UGFzc3dvcmQ6\r\n"),
        Lines(1),
        Say("235 2.7.0 ok\r\n"),
    ];
    let acts = [vec![Say(BANNER), Lines(1), Say(ehlo)], login, quit().into()].concat();
    let (result, t) = connect(acts, security(false, Verify::None, true, true));
    assert!(!result.expect("authenticated in clear, as allowed"));
    assert_eq!(t.commands(), ["EHLO client.example.net", "AUTH LOGIN", "dXNlcg==", "cGFzcw==", "QUIT"]);
}

#[test]
fn refused_credentials_are_permanent() {
    let (server, _) = tls_pair();
    let acts = [upgrade(server, EHLO_AFTER_TLS), vec![Lines(1), Say("535 5.7.8 bad credentials\r\n")]].concat();
    let (result, _) = connect(acts, security(false, Verify::None, true, false));
    let error = result.expect_err("refused");
    assert!(matches!(error, ClientError::AuthRefused { .. }), "{error:?}");
    assert!(error.is_permanent());
    assert_eq!(error.status(), "5.7.8");
}

#[test]
fn no_auth_mechanism_is_permanent() {
    let acts = vec![Say(BANNER), Lines(1), Say(EHLO_FULL)];
    let (result, _) = connect(acts, security(false, Verify::None, true, true));
    let error = result.expect_err("nothing to authenticate with");
    assert!(matches!(error, ClientError::AuthUnavailable { .. }), "{error:?}");
    assert!(error.is_permanent());
}

#[test]
fn credentials_never_go_in_clear_without_the_override() {
    let ehlo = "250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n";
    let acts = [vec![Say(BANNER), Lines(1), Say(ehlo)], quit().into()].concat();
    let (result, t) = connect(acts, security(false, Verify::None, true, false));
    let error = result.expect_err("no TLS for the credentials");
    assert!(matches!(error, ClientError::TlsUnavailable { .. }), "{error:?}");
    assert!(error.is_permanent());
    assert_eq!(t.commands(), ["EHLO client.example.net", "QUIT"], "no AUTH line was sent");
}

#[test]
fn starttls_refused_fails_only_when_tls_is_needed() {
    let refuse = || vec![Say(BANNER), Lines(1), Say(EHLO_TLS), Lines(1), Say("454 4.7.0 TLS not available\r\n")];
    let (result, t) = connect([refuse(), quit().into()].concat(), Security::opportunistic());
    assert!(!result.expect("clear text is fine"));
    assert_eq!(t.commands(), ["EHLO client.example.net", "STARTTLS", "QUIT"]);
    let (result, _) = connect(refuse(), security(true, Verify::None, false, false));
    let error = result.expect_err("TLS is required");
    assert!(matches!(error, ClientError::StartTls { .. }) && !error.is_permanent(), "{error:?}");
    assert_eq!(error.status(), "4.7.0");
}

#[test]
fn untrusted_certificate_is_a_temporary_handshake_error() {
    let (server, _) = tls_pair();
    let (_, other_roots) = tls_pair();
    let (result, t) = connect(upgrade(server, EHLO_FULL), security(true, Verify::Roots(other_roots), false, false));
    let error = result.expect_err("certificate not trusted");
    assert!(matches!(error, ClientError::Handshake { .. }), "{error:?}");
    assert!(!error.is_permanent());
    assert_eq!(t.tls_from, None);
}
