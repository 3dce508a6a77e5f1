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

/// One connection, starting with message `first`. With PIPELINING, a message's body goes out
/// in one write with the next message's MAIL, RCPT and DATA (RFC 2920 lets message content
/// start a group), so each message costs one round trip.
async fn connection(ctx: &Ctx, first: u64) -> io::Result<()> {
    let tcp = TcpStream::connect(ctx.cfg.target).await?;
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::new(Stream::Plain(tcp));
    if conn.code().await? != 220 {
        return Err(other("no 220 greeting"));
    }
    let caps = hello(ctx, &mut conn).await?;
    let pipelining = caps.pipelining && ctx.cfg.pipelining;
    let mut out = Vec::with_capacity(ctx.cfg.sizes.max() + 1024);
    ctx.pace(first).await;
    let mut env = send_envelope(ctx, &mut conn, first, pipelining, &mut out).await?;
    let mut sent = 0;
    loop {
        sent += 1;
        let last = ctx.cfg.messages_per_session > 0 && sent >= ctx.cfg.messages_per_session;
        let next = if last { None } else { ctx.next() };
        if !env.ready {
            ctx.stats.refused.fetch_add(1, Relaxed);
            conn.send(b"RSET\r\n").await?;
            conn.code().await?;
        } else {
            out.clear();
            push_body(ctx, &mut out, &env);
            let pipelined = next.filter(|_| pipelining && ctx.cfg.rate.is_none());
            if let Some(n) = pipelined {
                push_commands(ctx, &mut out, n);
            }
            conn.send(&out).await?;
            let sent_at = Instant::now();
            let code = conn.code().await?;
            record(ctx, &env, code, sent_at);
            if let Some(n) = pipelined {
                env = read_envelope(ctx, &mut conn, n).await?;
                continue;
            }
        }
        let Some(n) = next else { break };
        ctx.pace(n).await;
        env = send_envelope(ctx, &mut conn, n, pipelining, &mut out).await?;
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

/// A message whose MAIL, RCPT and DATA have been answered.
struct Envelope {
    seq: u64,
    /// Recipients accepted.
    rcpts: u32,
    /// DATA got 354.
    ready: bool,
}

fn domain(ctx: &Ctx, seq: u64) -> &str {
    &ctx.cfg.domains[(seq % ctx.cfg.domains.len() as u64) as usize]
}

fn commands(ctx: &Ctx, seq: u64) -> Vec<String> {
    let d = domain(ctx, seq);
    let rcpts = (0..ctx.cfg.recipients).map(|j| format!("RCPT TO:<r{j}@{d}>\r\n"));
    std::iter::once(format!("MAIL FROM:<{}>\r\n", ctx.cfg.from)).chain(rcpts).chain(["DATA\r\n".to_string()]).collect()
}

fn push_commands(ctx: &Ctx, out: &mut Vec<u8>, seq: u64) {
    for c in commands(ctx, seq) {
        out.extend_from_slice(c.as_bytes());
    }
}

/// Sends the envelope of `seq` (in one write with PIPELINING) and reads its replies.
async fn send_envelope(
    ctx: &Ctx,
    conn: &mut Conn,
    seq: u64,
    pipelining: bool,
    out: &mut Vec<u8>,
) -> io::Result<Envelope> {
    if pipelining {
        out.clear();
        push_commands(ctx, out, seq);
        conn.send(out).await?;
        return read_envelope(ctx, conn, seq).await;
    }
    let mut codes = Vec::new();
    for c in commands(ctx, seq) {
        conn.send(c.as_bytes()).await?;
        codes.push(conn.code().await?);
        if codes[0] != 250 {
            break;
        }
    }
    Ok(envelope(seq, &codes, ctx.cfg.recipients as usize))
}

/// Reads the replies to MAIL, every RCPT and DATA of `seq`.
async fn read_envelope(ctx: &Ctx, conn: &mut Conn, seq: u64) -> io::Result<Envelope> {
    let n = ctx.cfg.recipients as usize;
    let mut codes = Vec::with_capacity(n + 2);
    for _ in 0..n + 2 {
        codes.push(conn.code().await?);
    }
    Ok(envelope(seq, &codes, n))
}

fn envelope(seq: u64, codes: &[u16], recipients: usize) -> Envelope {
    let rcpts = codes.iter().skip(1).take(recipients).filter(|&&c| c == 250 || c == 251).count() as u32;
    Envelope { seq, rcpts, ready: codes.len() == recipients + 2 && codes[recipients + 1] == 354 }
}

/// The message text (or only the final dot when no recipient was accepted).
fn push_body(ctx: &Ctx, out: &mut Vec<u8>, env: &Envelope) {
    if env.rcpts == 0 {
        out.extend_from_slice(b".\r\n");
        return;
    }
    let size = ctx.cfg.sizes.draw(|bound| fastrand::u64(..bound));
    let to = format!("r0@{}", domain(ctx, env.seq));
    let stamp = Stamp { run: ctx.cfg.run, seq: env.seq, sent_nanos: unix_nanos(), from: &ctx.cfg.from, to: &to, size };
    ctx.template.write(out, &stamp);
}

/// Counts the reply to the end of data.
fn record(ctx: &Ctx, env: &Envelope, code: u16, sent_at: Instant) {
    if code != 250 || env.rcpts == 0 {
        ctx.stats.refused.fetch_add(1, Relaxed);
        return;
    }
    let micros = (sent_at.elapsed().as_micros() as u64).max(1);
    ctx.stats.accepted.fetch_add(1, Relaxed);
    ctx.stats.latency_sum_us.fetch_add(micros, Relaxed);
    let mut local = ctx.local.borrow_mut();
    local.accepted.push((env.seq, env.rcpts));
    if let Some(h) = local.latency.as_mut() {
        let _ = h.record(micros);
    }
}
