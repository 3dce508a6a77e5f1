//! Table tests of dot-stuffing and un-stuffing, across chunk boundaries.

use super::*;

/// (content, at_line_start, wire form, at_line_start after)
const STUFF: &[(&str, bool, &str, bool)] = &[
    ("", true, "", true),
    ("", false, "", false),
    (".", true, "..", false),
    (".", false, ".", false),
    ("a.b\r\n", true, "a.b\r\n", true),
    (".a\r\n.\r\n..\r\n", true, "..a\r\n..\r\n...\r\n", true),
    ("x\r\n.y", false, "x\r\n..y", false),
    ("a\n.b\r.c", true, "a\n..b\r.c", false),
    ("\r\n.", true, "\r\n..", false),
    ("\n", false, "\n", true),
    ("line one\r\nline two\r\n", true, "line one\r\nline two\r\n", true),
];

#[test]
fn stuffs() {
    for &(content, start, wire, end) in STUFF {
        let mut out = b"kept".to_vec();
        assert_eq!(stuff_into(content.as_bytes(), start, &mut out), end, "{content:?}");
        assert_eq!(out, format!("kept{wire}").as_bytes(), "{content:?}");
    }
}

#[test]
fn stuffing_in_pieces_matches_stuffing_whole() {
    for &(content, start, wire, end) in STUFF {
        let content = content.as_bytes();
        for split in 0..=content.len() {
            let mut out = Vec::new();
            let middle = stuff_into(&content[..split], start, &mut out);
            assert_eq!(stuff_into(&content[split..], middle, &mut out), end);
            assert_eq!(out, wire.as_bytes(), "{content:?} split at {split}");
        }
    }
}

#[test]
fn unstuffs_what_was_stuffed() {
    let from_message_start = STUFF.iter().filter(|&&(_, at_line_start, _, _)| at_line_start);
    for &(content, _, wire, _) in from_message_start {
        let mut out = b"kept".to_vec();
        unstuff_into(wire.as_bytes(), &mut out);
        assert_eq!(out, format!("kept{content}").as_bytes(), "{wire:?}");
    }
}

#[test]
fn unstuffs() {
    let cases = [
        ("", ""),
        (".", ""),
        ("..", "."),
        ("...\r\n", "..\r\n"),
        (".a\r\n", "a\r\n"),
        ("a\r\n.\r\n..\r\nb.c\r\n", "a\r\n\r\n.\r\nb.c\r\n"),
        ("\n.\n.", "\n\n"),
        ("a\r.b\n.c", "a\r.b\nc"),
    ];
    for (wire, content) in cases {
        let mut out = Vec::new();
        unstuff_into(wire.as_bytes(), &mut out);
        assert_eq!(out, content.as_bytes(), "{wire:?}");
    }
}

#[test]
fn round_trips_every_line_start() {
    let content = b".\r\n..\r\n.x\r\nx.\r\n\n.\n\r\n.";
    let mut wire = Vec::new();
    stuff_into(content, true, &mut wire);
    assert_eq!(wire, b"..\r\n...\r\n..x\r\nx.\r\n\n..\n\r\n..");
    let mut back = Vec::new();
    unstuff_into(&wire, &mut back);
    assert_eq!(back, content);
}

#[test]
fn finds_bare_eol_across_chunks() {
    // (message, bare CR or LF anywhere, counting a final CR)
    let cases = [
        ("", false),
        ("a\r\nb\r\n", false),
        ("\r\n\r\n", false),
        ("a\rb", true),
        ("a\nb", true),
        ("\n", true),
        ("a\r", true),
        ("\r", true),
        ("a\r\r\n", true),
        ("a\r\n\n", true),
        ("a\n\r", true),
        ("\r\n.\r\n", false),
    ];
    for (message, bare) in cases {
        let message = message.as_bytes();
        for split in 0..=message.len() {
            let mut eol = BareEol::default();
            let first = eol.feed(&message[..split]);
            let second = eol.feed(&message[split..]);
            assert!(!first || second, "{message:?}");
            assert_eq!(eol.finish(), bare, "{message:?} split at {split}");
        }
        let mut eol = BareEol::default();
        for byte in message {
            eol.feed(std::slice::from_ref(byte));
        }
        assert_eq!(eol.finish(), bare, "{message:?} byte by byte");
    }
}

#[test]
fn final_cr_is_bare_only_at_finish() {
    let mut eol = BareEol::default();
    assert!(!eol.feed(b"a\r"));
    assert!(eol.finish());
    assert!(!eol.feed(b"\nb\r\n"));
    assert!(!eol.finish());
    assert!(eol.feed(b"\n"));
    assert!(eol.finish());
}
