//! Header-section helpers over a wire-form message.

use memchr::memchr;

/// Number of `Received:` header fields (case-insensitive name, at the start of a line, not
/// continuation lines) in the header section, which ends at the first empty line.
///
/// The name must be followed directly by the colon: RFC 5322 allows no white space there,
/// so `Received :` is not a `Received` field. A message without an empty line is all header.
pub fn count_received(wire: &[u8]) -> usize {
    const NAME: &[u8] = b"received:";
    let mut count = 0;
    let mut line = wire;
    while !line.is_empty() && !line.starts_with(b"\r\n") && line[0] != b'\n' {
        if line.len() >= NAME.len() && line[..NAME.len()].eq_ignore_ascii_case(NAME) {
            count += 1;
        }
        match memchr(b'\n', line) {
            Some(lf) => line = &line[lf + 1..],
            None => break,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_received_fields() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("\r\n", 0),
            ("Subject: x\r\n\r\nbody\r\n", 0),
            ("Received: a\r\n\r\n", 1),
            ("Received: a\r\nReceived: b\r\nSubject: x\r\n\r\nbody\r\n", 2),
            ("received: a\r\nRECEIVED: b\r\nReCeIvEd:c\r\n\r\n", 3),
            ("Received: from a\r\n\tby b\r\n  Received: c\r\n\r\n", 1),
            ("Received : a\r\nReceived\t: b\r\nReceivedX: c\r\nReceive: d\r\n\r\n", 0),
            ("X-Received: a\r\nResent-Received: b\r\n\r\n", 0),
            ("Subject: x\r\n\r\nReceived: in body\r\n", 0),
            ("\r\nReceived: after empty first line\r\n", 0),
            ("Received: a\r\nReceived: b", 2),
            ("Received: a\r\nReceived:", 2),
            ("Received: a\nReceived: b\n\nReceived: body\n", 2),
            ("Subject: x\r\n \r\nReceived: after a blank continuation\r\n\r\n", 1),
            ("Received", 0),
        ];
        for &(wire, expected) in cases {
            assert_eq!(count_received(wire.as_bytes()), expected, "{wire:?}");
        }
    }

    #[test]
    fn many_hops() {
        let wire = "Received: hop\r\n".repeat(16) + "Subject: s\r\n\r\nbody\r\n";
        assert_eq!(count_received(wire.as_bytes()), 16);
    }
}
