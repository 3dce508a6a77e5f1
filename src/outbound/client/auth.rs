//! RFC 4954 `AUTH` for the client: which mechanism to use and what to send (pure).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::ehlo::Capabilities;
use super::security::Credentials;

/// The SASL mechanisms the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mechanism {
    /// RFC 4616, sent as an initial response.
    Plain,
    /// The widespread `LOGIN` exchange: user name, then password, each after a `334`.
    Login,
}

/// PLAIN when the server offers it, else LOGIN, else nothing.
pub(super) fn choose(caps: &Capabilities) -> Option<Mechanism> {
    if caps.offers_auth("PLAIN") {
        Some(Mechanism::Plain)
    } else if caps.offers_auth("LOGIN") {
        Some(Mechanism::Login)
    } else {
        None
    }
}

/// The `AUTH PLAIN` command with its initial response: base64 of `\0user\0password`.
pub(super) fn plain_command(c: &Credentials) -> String {
    let message = format!("\0{}\0{}", c.username, c.password);
    format!("AUTH PLAIN {}\r\n", STANDARD.encode(message))
}

/// One line of the `LOGIN` exchange: `secret` in base64.
pub(super) fn login_line(secret: &str) -> String {
    format!("{}\r\n", STANDARD.encode(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(auth: &[&str]) -> Capabilities {
        Capabilities { auth: auth.iter().map(|m| m.to_string()).collect(), ..Capabilities::default() }
    }

    #[test]
    fn plain_is_preferred_then_login() {
        assert_eq!(choose(&caps(&["LOGIN", "PLAIN"])), Some(Mechanism::Plain));
        assert_eq!(choose(&caps(&["CRAM-MD5", "LOGIN"])), Some(Mechanism::Login));
        assert_eq!(choose(&caps(&["CRAM-MD5"])), None);
        assert_eq!(choose(&caps(&[])), None);
    }

    #[test]
    fn encodings_are_exact() {
        let c = Credentials { username: "user".into(), password: "pass".into() };
        assert_eq!(plain_command(&c), "AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
        assert_eq!(login_line("user"), "dXNlcg==\r\n");
        assert_eq!(login_line("pass"), "cGFzcw==\r\n");
    }
}
