//! One client session: connect, EHLO (STARTTLS and AUTH PLAIN when asked), then transactions
//! until the run ends or the per-connection count is reached. With PIPELINING, MAIL, every
//! RCPT and DATA go out in one write.

use std::io;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use base64::Engine;
use glommio::net::TcpStream;

use super::{unix_nanos, Ctx};
use crate::conn::Conn;
use crate::message::Stamp;
use crate::proto::{parse_caps, Caps};
use crate::stream::{client_config, Stream};

/// Pause after a failed connection before the next try.
const BACKOFF: Duration = Duration::from_millis(100);

/// Runs connections one after the other until the run is over.
pub async fn run(ctx: Rc<Ctx>) {
    while let Some(seq) = ctx.next() {
        if connection(&ctx, seq).await.is_err() {
            ctx.stats.errors.fetch_add(1, Relaxed);
            glommio::timer::sleep(BACKOFF).await;
        }
    }
}

fn other(text: &str) -> io::Error {
    io::Error::other(text.to_string())
}

/// One connection, starting with message `first`.
async fn connection(ctx: &Ctx, first: u64) -> io::Result<()> {
    let tcp = TcpStream::connect(ctx.cfg.target).await?;
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::new(Stream::Plain(tcp));
    if conn.code().await? != 220 {
        return Err(other("no 220 greeting"));
    }
    let caps = hello(ctx, &mut conn).await?;
    let pipelining = caps.pipelining && ctx.cfg.pipelining;
    let mut body = Vec::with_capacity(ctx.cfg.sizes.max() + 512);
    let mut seq = first;
    let mut sent = 0;
    loop {
        transaction(ctx, &mut conn, seq, pipelining, &mut body).await?;
        sent += 1;
        if ctx.cfg.messages_per_session > 0 && sent >= ctx.cfg.messages_per_session {
            break;
        }
        let Some(next) = ctx.next() else { break };
        seq = next;
    }
    conn.send(b"QUIT\r\n").await?;
    let _ = conn.code().await;
    Ok(())
}

async fn hello(ctx: &Ctx, conn: &mut Conn) -> io::Result<Caps> {
    let mut caps = ehlo(conn).await?;
    if ctx.cfg.starttls {
        if !caps.starttls {
            return Err(other("STARTTLS not offered"));
        }
        conn.send(b"STARTTLS\r\n").await?;
        if conn.code().await? != 220 {
            return Err(other("STARTTLS refused"));
        }
        conn.clear();
        conn.stream.connect_tls(client_config()).await?;
        caps = ehlo(conn).await?;
    }
    if let Some((user, pass)) = &ctx.cfg.auth {
        if !caps.auth_plain {
            return Err(other("AUTH PLAIN not offered"));
        }
        let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
        conn.send(format!("AUTH PLAIN {token}\r\n").as_bytes()).await?;
        if conn.code().await? != 235 {
            return Err(other("AUTH refused"));
        }
    }
    Ok(caps)
}

async fn ehlo(conn: &mut Conn) -> io::Result<Caps> {
    conn.send(b"EHLO loadgen.test\r\n").await?;
    let (code, text) = conn.reply().await?;
    if code != 250 {
        return Err(other("EHLO refused"));
    }
    Ok(parse_caps(&text))
}

/// Sends message `seq`; a refusal is counted, only a broken connection is an error.
async fn transaction(ctx: &Ctx, conn: &mut Conn, seq: u64, pipelining: bool, body: &mut Vec<u8>) -> io::Result<()> {
    let cfg = &ctx.cfg;
    let domain = &cfg.domains[(seq % cfg.domains.len() as u64) as usize];
    let rcpts: Vec<String> = (0..cfg.recipients).map(|j| format!("RCPT TO:<r{j}@{domain}>\r\n")).collect();
    let mail = format!("MAIL FROM:<{}>\r\n", cfg.from);
    let mut codes = Vec::with_capacity(rcpts.len() + 2);
    if pipelining {
        let batch =
            [mail.as_str()].into_iter().chain(rcpts.iter().map(String::as_str)).chain(["DATA\r\n"]).collect::<String>();
        conn.send(batch.as_bytes()).await?;
        for _ in 0..rcpts.len() + 2 {
            codes.push(conn.code().await?);
        }
    } else {
        for command in [mail.as_str()].into_iter().chain(rcpts.iter().map(String::as_str)).chain(["DATA\r\n"]) {
            conn.send(command.as_bytes()).await?;
            codes.push(conn.code().await?);
        }
    }
    let accepted_rcpts = codes[1..codes.len() - 1].iter().filter(|&&c| c == 250 || c == 251).count() as u32;
    if codes[codes.len() - 1] != 354 {
        ctx.stats.refused.fetch_add(1, Relaxed);
        conn.send(b"RSET\r\n").await?;
        conn.code().await?;
        return Ok(());
    }
    body.clear();
    let size = cfg.sizes.draw(|bound| fastrand::u64(..bound));
    let to = format!("r0@{domain}");
    let stamp = Stamp { run: cfg.run, seq, sent_nanos: unix_nanos(), from: &cfg.from, to: &to, size };
    ctx.template.write(body, &stamp);
    if accepted_rcpts == 0 {
        body.clear();
        body.extend_from_slice(b".\r\n");
    }
    conn.send(body).await?;
    let sent_at = Instant::now();
    let code = conn.code().await?;
    if code != 250 || accepted_rcpts == 0 {
        ctx.stats.refused.fetch_add(1, Relaxed);
        return Ok(());
    }
    let micros = (sent_at.elapsed().as_micros() as u64).max(1);
    ctx.stats.accepted.fetch_add(1, Relaxed);
    ctx.stats.latency_sum_us.fetch_add(micros, Relaxed);
    let mut local = ctx.local.borrow_mut();
    local.accepted.push((seq, accepted_rcpts));
    if let Some(h) = local.latency.as_mut() {
        let _ = h.record(micros);
    }
    Ok(())
}
