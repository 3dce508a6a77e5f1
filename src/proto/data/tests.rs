//! Tests of the DATA scanner: end of data across chunk boundaries, bare CR/LF, pipelined bytes.

use super::*;

/// Bytes the client pipelines after the end of data.
const NEXT: &[u8] = b"QUIT\r\n";

/// (message up to and including the final `.\r\n`, body_len, saw_bare_eol)
const ENDED: &[(&str, u64, bool)] = &[
    (".\r\n", 0, false),
    ("a\r\n.\r\n", 3, false),
    ("\r\n.\r\n", 2, false),
    ("\r\n\r\n.\r\n", 4, false),
    ("Subject: x\r\n\r\nhello\r\n.\r\n", 21, false),
    ("..\r\n.\r\n", 4, false),
    ("a\r\n..\r\n...x\r\n.\r\n", 13, false),
    ("a\r\n.x\r\n. \r\n.\r\n", 11, false),
    ("a\n.\nb\r\n.\r\n", 7, true),
    ("a\r\n.\nb\r\n.\r\n", 8, true),
    ("a\n.\r\nb\r\n.\r\n", 8, true),
    ("a\r.\rb\r\n.\r\n", 7, true),
    ("a\rb\r\n.\r\n", 5, true),
    ("a\nb\r\n.\r\n", 5, true),
    ("x\r\n.\r\r\n.\r\n", 7, true),
    ("\n.\r\n.\r\n", 4, true),
    ("\r.\r\n.\r\n", 4, true),
    ("a\r\n\n.\r\n.\r\n", 7, true),
    ("a\r\r\n.\r\n", 4, true),
    ("x\r\n\r\n.\r\n", 5, false),
];

/// Streams that never end data, and whether they hold a bare CR or LF (a final CR is not
/// judged yet).
const UNENDED: &[(&str, bool)] = &[
    ("", false),
    ("a\r\n", false),
    ("a\r\n.", false),
    ("a\r\n.\r", false),
    ("a\n.\n", true),
    ("a\r.\r", true),
    ("a\n.\r\n", true),
    ("a\r\n.\n", true),
    (".\n", true),
    (".\r.\r\n", true),
    ("a\r\n. \r\n", false),
    ("a\r\n..\r\n", false),
];

/// Feeds `chunks` and returns (bytes consumed, ended, body_len, saw_bare_eol).
fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (usize, bool, u64, bool) {
    let mut scanner = DataScanner::new();
    let mut consumed = 0;
    let mut ended = false;
    for chunk in chunks {
        if ended {
            assert_eq!(scanner.feed(chunk), Feed::End { consumed: 0 });
            continue;
        }
        match scanner.feed(chunk) {
            Feed::More => consumed += chunk.len(),
            Feed::End { consumed: used } => {
                assert!(used <= chunk.len());
                consumed += used;
                ended = true;
            }
        }
    }
    (consumed, ended, scanner.body_len(), scanner.saw_bare_eol())
}

/// Every way to cut `input` into three chunks (empty ones included), and byte by byte.
fn every_split(input: &[u8], expected: (usize, bool, u64, bool)) {
    for first in 0..=input.len() {
        for second in first..=input.len() {
            let chunks = [&input[..first], &input[first..second], &input[second..]];
            assert_eq!(run(chunks), expected, "{input:?} cut at {first}, {second}");
        }
    }
    let bytes = input.chunks(1);
    assert_eq!(run(bytes), expected, "{input:?} byte by byte");
}

#[test]
fn finds_the_end_however_the_message_is_split() {
    for &(message, body_len, bare) in ENDED {
        let input = [message.as_bytes(), NEXT].concat();
        let expected = (message.len(), true, body_len, bare);
        assert_eq!(run([&input[..]]), expected, "{message:?} whole");
        every_split(&input, expected);
    }
}

#[test]
fn only_crlf_dot_crlf_ends_data() {
    for &(stream, bare) in UNENDED {
        let input = stream.as_bytes();
        let expected = (input.len(), false, input.len() as u64, bare);
        every_split(input, expected);
    }
}

#[test]
fn first_end_wins_over_later_ones() {
    let input = b".\r\n.\r\n\r\n.\r\n";
    assert_eq!(run([&input[..]]), (3, true, 0, false));
    every_split(input, (3, true, 0, false));
}

#[test]
fn feeds_after_the_end_consume_nothing() {
    let mut scanner = DataScanner::default();
    assert_eq!(scanner.feed(b""), Feed::More);
    assert_eq!(scanner.feed(b"hi\r\n.\r"), Feed::More);
    assert_eq!(scanner.body_len(), 6);
    assert_eq!(scanner.feed(b"\nMAIL"), Feed::End { consumed: 1 });
    assert_eq!(scanner.body_len(), 4);
    assert_eq!(scanner.feed(b"\r\n.\r\n"), Feed::End { consumed: 0 });
    assert_eq!(scanner.body_len(), 4);
    assert!(!scanner.saw_bare_eol());
}

#[test]
fn large_message_in_big_chunks() {
    let line = format!("{}\r\n", "x".repeat(76));
    let mut message = line.repeat(20_000).into_bytes();
    message.extend_from_slice(b".stuffed\r\n.\r\n");
    let body_len = message.len() as u64 - 3;
    let input = [&message[..], NEXT].concat();
    for size in [1, 3, 4, 5, 4096, 65_536, input.len()] {
        let expected = (message.len(), true, body_len, false);
        assert_eq!(run(input.chunks(size)), expected, "chunks of {size}");
    }
}
