//! One DNS exchange with one server: a UDP query, repeated over TCP when the reply is truncated.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpStream, UdpSocket};
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};

use super::wire;

/// Largest UDP reply we read (above the advertised EDNS payload, so nothing is cut short).
const UDP_BUFFER: usize = 4096;

/// Asks `server` for `name`/`rtype` with a fresh random id, within `timeout` overall.
///
/// Replies with another id or question are ignored (UDP) or refused (TCP); the error text
/// says why the exchange failed.
pub(crate) async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, String> {
    let id = fastrand::u16(..);
    let query = wire::encode_query(id, name, rtype)?;
    let work = async {
        let reply = udp(server, &query, id, name, rtype).await?;
        if reply.metadata.truncation {
            tcp(server, &query, id, name, rtype).await
        } else {
            Ok(reply)
        }
    };
    let expiry = async {
        glommio::timer::sleep(timeout).await;
        Err(format!("{server}: no answer within {timeout:?}"))
    };
    futures_lite::future::or(work, expiry).await
}

async fn udp(server: SocketAddr, query: &[u8], id: u16, name: &Name, rtype: RecordType) -> Result<Message, String> {
    let fail = |e: glommio::GlommioError<()>| format!("{server}: udp: {e}");
    let local = match server.ip() {
        IpAddr::V4(_) => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        IpAddr::V6(_) => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
    };
    let mut socket = UdpSocket::bind(local).map_err(fail)?;
    socket.set_buffer_size(UDP_BUFFER);
    socket.connect(server).await.map_err(fail)?;
    socket.send(query).await.map_err(fail)?;
    let mut buf = vec![0u8; UDP_BUFFER];
    loop {
        let n = socket.recv(&mut buf).await.map_err(fail)?;
        match Message::from_vec(&buf[..n]) {
            Ok(msg) if wire::is_reply_to(&msg, id, name, rtype) => return Ok(msg),
            _ => continue,
        }
    }
}

async fn tcp(server: SocketAddr, query: &[u8], id: u16, name: &Name, rtype: RecordType) -> Result<Message, String> {
    let fail = |e: std::io::Error| format!("{server}: tcp: {e}");
    let mut stream = TcpStream::connect(server).await.map_err(|e| format!("{server}: tcp connect: {e}"))?;
    let len = u16::try_from(query.len()).map_err(|_| format!("{server}: query too long for tcp"))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await.map_err(fail)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.map_err(fail)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await.map_err(fail)?;
    let msg = Message::from_vec(&buf).map_err(|e| format!("{server}: tcp: malformed reply: {e}"))?;
    if wire::is_reply_to(&msg, id, name, rtype) {
        Ok(msg)
    } else {
        Err(format!("{server}: tcp: reply does not match the query"))
    }
}
