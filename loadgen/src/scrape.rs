//! Reading tern's `/metrics`: a tiny HTTP GET over loopback and pure parsing of the Prometheus
//! text format (the samples `bench` needs: Messages Sent/sec, sent and queued counts).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The body of `GET /metrics` at `addr`.
pub fn fetch(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    Ok(text.split_once("\r\n\r\n").map_or(text.clone(), |(_, body)| body.to_string()))
}

/// The value of the sample `name` without labels.
pub fn value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Every `name{domain="..."}` sample, by domain.
pub fn by_domain(text: &str, name: &str) -> BTreeMap<String, f64> {
    let prefix = format!("{name}{{domain=\"");
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (domain, rest) = rest.split_once("\"}")?;
            Some((domain.to_string(), rest.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE tern_messages_sent_per_second gauge\n\
        tern_messages_sent_per_second 12.5\n\
        tern_messages_sent_per_second{domain=\"a.test\"} 10.0\n\
        tern_messages_sent_per_second{domain=\"b.test\"} 2.5\n\
        tern_messages_sent_total{domain=\"a.test\"} 100\n\
        tern_queue_messages 3\n";

    #[test]
    fn samples_are_found() {
        assert_eq!(value(TEXT, "tern_messages_sent_per_second"), Some(12.5));
        assert_eq!(value(TEXT, "tern_queue_messages"), Some(3.0));
        assert_eq!(value(TEXT, "tern_queue"), None);
        let rates = by_domain(TEXT, "tern_messages_sent_per_second");
        assert_eq!(rates.into_iter().collect::<Vec<_>>(), [("a.test".into(), 10.0), ("b.test".into(), 2.5)]);
        assert_eq!(by_domain(TEXT, "tern_messages_sent_total").len(), 1);
    }
}
