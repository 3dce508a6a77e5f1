//! Human units in the configuration file: sizes (`2048KB`, `10MB`) and durations (`15m`, `2d`).

use std::time::Duration;

/// What a size may look like; used as the reason of a bad size.
pub const SIZE_FORMS: &str =
    "expected a size: an integer number of bytes or a number with B, KB, MB or GB (1024-based), e.g. \"2048KB\"";

/// What a duration may look like; used as the reason of a bad duration.
pub const DURATION_FORMS: &str =
    "expected a duration: an integer number of seconds or a number with ms, s, m, h or d, e.g. \"15m\"";

/// Parses `512B`, `2048KB`, `10 MB`, `1gb` or a bare number of bytes (1024-based units).
pub fn parse_size(text: &str) -> Option<u64> {
    let (number, unit) = split_number(text)?;
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1 << 10,
        "mb" => 1 << 20,
        "gb" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// Parses `250ms`, `600s`, `15m`, `12h`, `2d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = split_number(text)?;
    let millis_per_unit: u64 = match unit.to_ascii_lowercase().as_str() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number.checked_mul(millis_per_unit).map(Duration::from_millis)
}

/// Splits `"10 MB"` into `(10, "MB")`: leading ASCII digits, optional spaces, then the unit.
fn split_number(text: &str) -> Option<(u64, &str)> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number = text[..digits].parse().ok()?;
    Some((number, text[digits..].trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("512", Some(512)),
            ("512B", Some(512)),
            ("512b", Some(512)),
            ("2048KB", Some(2048 * 1024)),
            ("2048kb", Some(2048 * 1024)),
            ("10MB", Some(10 * 1024 * 1024)),
            ("10 MB", Some(10 * 1024 * 1024)),
            (" 1GB ", Some(1 << 30)),
            ("1Gb", Some(1 << 30)),
            ("", None),
            ("MB", None),
            ("-1", None),
            ("1.5MB", None),
            ("10TB", None),
            ("10 M B", None),
            ("10K", None),
            ("99999999999999999999", None),
            ("18446744073709551615GB", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_size(text), *want, "{text:?}");
        }
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("600", Some(600_000)),
            ("600s", Some(600_000)),
            ("600S", Some(600_000)),
            ("250ms", Some(250)),
            ("15m", Some(900_000)),
            ("15 m", Some(900_000)),
            ("12h", Some(43_200_000)),
            ("2d", Some(172_800_000)),
            ("2D", Some(172_800_000)),
            ("", None),
            ("m", None),
            ("1.5h", None),
            ("-5s", None),
            ("3w", None),
            ("5 minutes", None),
            ("18446744073709551615d", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), want.map(Duration::from_millis), "{text:?}");
        }
    }
}
