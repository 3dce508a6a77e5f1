//! Syntax checks for the domain of a path: DNS-style names (UTF-8 labels allowed) and
//! `[IPv4]` / `[IPv6:...]` address literals.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest domain (RFC 5321 §4.5.3.1.2).
pub const MAX_DOMAIN: usize = 255;
/// Longest ASCII label (RFC 1035 §2.3.4). UTF-8 labels are not limited here: their
/// A-label form, which the limit is about, may be shorter than their UTF-8 octets.
const MAX_LABEL: usize = 63;

/// Checks a domain name or an address literal.
pub fn check(domain: &str) -> Result<(), &'static str> {
    if domain.len() > MAX_DOMAIN {
        return Err("domain too long");
    }
    if domain.starts_with('[') {
        check_literal(domain)
    } else {
        check_name(domain)
    }
}

/// Checks a domain name: dot-separated labels of letters, digits, hyphens and non-ASCII
/// characters, no label empty or starting or ending with a hyphen, no trailing dot.
pub fn check_name(domain: &str) -> Result<(), &'static str> {
    if domain.is_empty() {
        return Err("empty domain");
    }
    if domain.len() > MAX_DOMAIN {
        return Err("domain too long");
    }
    domain.split('.').try_for_each(check_label)
}

fn check_label(label: &str) -> Result<(), &'static str> {
    if label.is_empty() {
        return Err("empty domain label");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("domain label starts or ends with a hyphen");
    }
    if label.is_ascii() {
        if label.len() > MAX_LABEL {
            return Err("domain label too long");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("invalid character in domain");
        }
        return Ok(());
    }
    let valid =
        |c: char| c.is_ascii_alphanumeric() || c == '-' || !(c.is_ascii() || c.is_control() || c.is_whitespace());
    if label.chars().all(valid) {
        Ok(())
    } else {
        Err("invalid character in domain")
    }
}

/// Checks `[192.0.2.1]` or `[IPv6:2001:db8::1]` (the tag is case-insensitive).
fn check_literal(literal: &str) -> Result<(), &'static str> {
    let inner =
        literal.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).ok_or("unterminated address literal")?;
    let tag = inner.get(..5).filter(|tag| tag.eq_ignore_ascii_case("IPv6:"));
    match tag {
        Some(_) => inner[5..].parse::<Ipv6Addr>().map(drop).map_err(|_| "invalid IPv6 address literal"),
        None => inner.parse::<Ipv4Addr>().map(drop).map_err(|_| "invalid IPv4 address literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_domains() {
        let long_label = "a".repeat(63);
        let long_domain = ["a".repeat(63).as_str(); 4].join(".");
        assert_eq!(long_domain.len(), 255);
        let good = [
            "example.com",
            "localhost",
            "EXAMPLE.Com",
            "a-b.c0.d",
            "1.2.3.4",
            "xn--mnchen-3ya.de",
            "münchen.de",
            "例え.テスト",
            long_label.as_str(),
            long_domain.as_str(),
            "[192.0.2.1]",
            "[IPv6:2001:db8::1]",
            "[ipv6:::1]",
            "[IPv6:::ffff:192.0.2.1]",
        ];
        for domain in good {
            assert_eq!(check(domain), Ok(()), "{domain}");
        }
    }

    #[test]
    fn rejects_bad_domains() {
        let long_label = "a".repeat(64);
        let long_domain = format!("{}.a", ["a".repeat(63).as_str(); 4].join("."));
        let bad = [
            ("", "empty domain"),
            ("example.com.", "empty domain label"),
            (".example.com", "empty domain label"),
            ("a..b", "empty domain label"),
            ("-a.com", "domain label starts or ends with a hyphen"),
            ("a-.com", "domain label starts or ends with a hyphen"),
            ("a_b.com", "invalid character in domain"),
            ("a b.com", "invalid character in domain"),
            ("a\u{3000}b.com", "invalid character in domain"),
            ("a\u{85}b.com", "invalid character in domain"),
            (long_label.as_str(), "domain label too long"),
            (long_domain.as_str(), "domain too long"),
            ("[192.0.2.1", "unterminated address literal"),
            ("[192.0.2.256]", "invalid IPv4 address literal"),
            ("[192.0.2]", "invalid IPv4 address literal"),
            ("[010.0.2.1]", "invalid IPv4 address literal"),
            ("[2001:db8::1]", "invalid IPv4 address literal"),
            ("[IPv6:192.0.2.1]", "invalid IPv6 address literal"),
            ("[IPv6:2001:db8::1%eth0]", "invalid IPv6 address literal"),
            ("[IPv6:]", "invalid IPv6 address literal"),
            ("[tag:content]", "invalid IPv4 address literal"),
            ("[]", "invalid IPv4 address literal"),
        ];
        for (domain, why) in bad {
            assert_eq!(check(domain), Err(why), "{domain}");
        }
    }
}
