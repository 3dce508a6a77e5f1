//! Pure message generation and recognition: bodies are built once (only the headers vary per
//! message), each message carries its sequence number in the Message-ID and its send time in
//! `X-Loadgen-Sent`, which the sink reads back for exactly-once checks and end-to-end latency.

use std::str::FromStr;

/// Length of one filler line, CRLF included.
const LINE: usize = 78;

/// Message sizes: fixed, uniform in a range, or a weighted choice.
#[derive(Debug, Clone, PartialEq)]
pub enum Sizes {
    Fixed(usize),
    Range(usize, usize),
    Weighted(Vec<(usize, u32)>),
}

/// `4096`, `4KB`, `1MB` (KB = 1024 bytes).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim().to_ascii_uppercase();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t.as_str(), ""),
    };
    let n: usize = digits.parse().map_err(|_| format!("bad size {text:?}"))?;
    let unit = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1024,
        "M" | "MB" | "MIB" => 1024 * 1024,
        _ => return Err(format!("bad size unit in {text:?}")),
    };
    Ok(n * unit)
}

impl FromStr for Sizes {
    type Err = String;

    /// `4KB` (fixed), `1KB-64KB` (uniform), `4KB:90,100KB:10` (weighted).
    fn from_str(s: &str) -> Result<Sizes, String> {
        if s.contains(':') {
            let parts = s.split(',').map(|part| {
                let (size, weight) = part.split_once(':').ok_or(format!("bad weighted size {part:?}"))?;
                Ok((parse_size(size)?, weight.trim().parse().map_err(|_| format!("bad weight in {part:?}"))?))
            });
            let list = parts.collect::<Result<Vec<_>, String>>()?;
            if list.iter().map(|&(_, w)| w).sum::<u32>() == 0 {
                return Err(format!("weights in {s:?} add up to 0"));
            }
            return Ok(Sizes::Weighted(list));
        }
        match s.split_once('-') {
            Some((a, b)) if parse_size(a)? <= parse_size(b)? => Ok(Sizes::Range(parse_size(a)?, parse_size(b)?)),
            Some(_) => Err(format!("empty size range {s:?}")),
            None => Ok(Sizes::Fixed(parse_size(s)?)),
        }
    }
}

impl std::fmt::Display for Sizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sizes::Fixed(n) => write!(f, "{n}"),
            Sizes::Range(a, b) => write!(f, "{a}-{b}"),
            Sizes::Weighted(list) => {
                let parts: Vec<String> = list.iter().map(|(n, w)| format!("{n}:{w}")).collect();
                write!(f, "{}", parts.join(","))
            }
        }
    }
}

impl Sizes {
    pub fn max(&self) -> usize {
        match self {
            Sizes::Fixed(n) | Sizes::Range(_, n) => *n,
            Sizes::Weighted(list) => list.iter().map(|&(n, _)| n).max().unwrap_or(0),
        }
    }

    /// One size, drawn with `pick(bound)` returning a value in `0..bound`.
    pub fn draw(&self, mut pick: impl FnMut(u64) -> u64) -> usize {
        match self {
            Sizes::Fixed(n) => *n,
            Sizes::Range(a, b) => a + pick((b - a + 1) as u64) as usize,
            Sizes::Weighted(list) => {
                let mut at = pick(list.iter().map(|&(_, w)| u64::from(w)).sum());
                for &(n, w) in list {
                    if at < u64::from(w) {
                        return n;
                    }
                    at -= u64::from(w);
                }
                list.last().map_or(0, |&(n, _)| n)
            }
        }
    }
}

/// The fixed parts of every message: a filler of whole lines long enough for the largest size.
pub struct Template {
    filler: Vec<u8>,
}

/// What varies per message.
pub struct Stamp<'a> {
    pub run: u64,
    pub seq: u64,
    pub sent_nanos: u64,
    pub from: &'a str,
    pub to: &'a str,
    pub size: usize,
}

impl Template {
    pub fn new(max_size: usize) -> Template {
        let mut filler = Vec::with_capacity(max_size + LINE);
        let line: Vec<u8> = (0..LINE - 2).map(|i| b'a' + (i % 26) as u8).chain(*b"\r\n").collect();
        while filler.len() < max_size {
            filler.extend_from_slice(&line);
        }
        Template { filler }
    }

    /// Appends the whole DATA payload (headers, body, final `.` line) to `out`. The message is
    /// about `size` bytes (body rounded down to whole lines, never below the headers).
    pub fn write(&self, out: &mut Vec<u8>, s: &Stamp) {
        let start = out.len();
        let headers = format!(
            "From: <{}>\r\nTo: <{}>\r\nSubject: tern-loadgen {}\r\nMessage-ID: <{}.{:x}@loadgen.test>\r\nX-Loadgen-Sent: {}\r\n\r\n",
            s.from, s.to, s.seq, s.seq, s.run, s.sent_nanos
        );
        out.extend_from_slice(headers.as_bytes());
        let body = s.size.saturating_sub(out.len() - start) / LINE * LINE;
        out.extend_from_slice(&self.filler[..body.min(self.filler.len())]);
        out.extend_from_slice(b".\r\n");
    }
}

/// What the sink reads back from a message's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub run: u64,
    pub seq: u64,
    pub sent_nanos: Option<u64>,
}

/// Finds the loadgen Message-ID (and send time) in the header block `head`.
pub fn read_tag(head: &[u8]) -> Option<Tag> {
    let id = header(head, b"\nmessage-id: <")?;
    let (seq, rest) = id.split_at(id.iter().position(|&b| b == b'.')?);
    let run = &rest[1..rest.iter().position(|&b| b == b'@')?];
    let seq = std::str::from_utf8(seq).ok()?.parse().ok()?;
    let run = u64::from_str_radix(std::str::from_utf8(run).ok()?, 16).ok()?;
    let sent_nanos = header(head, b"\nx-loadgen-sent: ").and_then(|v| {
        let digits = &v[..v.iter().position(|b| !b.is_ascii_digit()).unwrap_or(v.len())];
        std::str::from_utf8(digits).ok()?.parse().ok()
    });
    Some(Tag { run, seq, sent_nanos })
}

/// The rest of the line after `name` (matched case-insensitively at a line start).
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let at = head.windows(name.len()).position(|w| w.eq_ignore_ascii_case(name))? + name.len();
    let rest = &head[at..];
    Some(&rest[..memchr::memchr(b'\r', rest).unwrap_or(rest.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        let cases = [
            ("4096", Sizes::Fixed(4096)),
            ("4KB", Sizes::Fixed(4096)),
            ("1k-2k", Sizes::Range(1024, 2048)),
            ("4KB:90,100KB:10", Sizes::Weighted(vec![(4096, 90), (102400, 10)])),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Sizes>().unwrap(), want, "{text}");
        }
        assert_eq!("1k:3,2k:1".parse::<Sizes>().unwrap().to_string(), "1024:3,2048:1");
        for bad in ["x", "4XB", "2k-1k", "1k:0", "1k:x"] {
            assert!(bad.parse::<Sizes>().is_err(), "{bad}");
        }
    }

    #[test]
    fn weighted_draws_follow_the_weights() {
        let sizes: Sizes = "1:3,2:1".parse().unwrap();
        let drawn: Vec<usize> = (0..4).map(|k| sizes.draw(|bound| k % bound)).collect();
        assert_eq!(drawn, [1, 1, 1, 2]);
        assert_eq!(Sizes::Range(10, 12).draw(|b| b - 1), 12);
    }

    #[test]
    fn a_message_round_trips_its_tag_and_ends_with_the_dot_line() {
        let template = Template::new(4096);
        let mut out = Vec::new();
        let stamp = Stamp { run: 0xbeef, seq: 42, sent_nanos: 7, from: "a@b", to: "c@d", size: 4096 };
        template.write(&mut out, &stamp);
        assert!(out.len() <= 4096 + 3 && out.len() > 4096 - 80, "{}", out.len());
        assert!(out.ends_with(b"\r\n.\r\n"));
        let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let tag = read_tag(&out[..head_end + 2]).unwrap();
        assert_eq!(tag, Tag { run: 0xbeef, seq: 42, sent_nanos: Some(7) });
        assert_eq!(read_tag(b"Subject: x\r\nMessage-ID: <foreign@x>\r\n"), None);
    }

    #[test]
    fn a_tiny_size_still_gives_a_whole_message() {
        let mut out = Vec::new();
        Template::new(10).write(&mut out, &Stamp { run: 1, seq: 1, sent_nanos: 1, from: "a@b", to: "c@d", size: 10 });
        assert!(out.ends_with(b"\r\n\r\n.\r\n"));
    }
}
