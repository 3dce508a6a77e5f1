//! Accept loop of one listener (one per bind address per shard, SO_REUSEPORT): decides
//! `[access]` and the virtual server's connection cap before the greeting, and runs each
//! session on this shard until it ends.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use futures_lite::AsyncWriteExt;
use glommio::net::{TcpListener, TcpStream};

use super::conn::serve;
use super::context::VsContext;
use super::rdns::{PendingName, LOOKUP_TIMEOUT};
use super::session::Session;
use crate::admin::metrics::Refuse;
use crate::policy::{ClientName, Verdict};
use crate::proto::reply::{Reply, Status};
use crate::runtime::Shard;

/// Accepts connections forever (the task is dropped at shutdown).
pub async fn listen(listener: TcpListener, vs: Rc<VsContext>, shard: Rc<Shard>) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let peer = match stream.peer_addr() {
                    Ok(peer) => peer,
                    Err(e) => {
                        tracing::debug!("accept: no peer address: {e}");
                        continue;
                    }
                };
                glommio::spawn_local(session(stream, peer, vs.clone(), shard.clone())).detach();
            }
            Err(e) => {
                tracing::warn!(virtual_server = %vs.name, "accept failed: {e}");
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

async fn session(mut stream: TcpStream, peer: SocketAddr, vs: Rc<VsContext>, shard: Rc<Shard>) {
    let mut session = Session::new(vs.clone(), peer.ip());
    let mut pending = vs.wants_client_name().then(|| PendingName::start(&shard.resolver, peer.ip()));
    if let Some(refusal) = admit(&mut session, pending.as_mut()).await {
        refuse(&mut stream, refusal).await;
        return;
    }
    let cap = vs.limits.inbound_connections;
    let open = vs.open_connections.fetch_add(1, Ordering::AcqRel) + 1;
    if cap != 0 && open > cap {
        vs.open_connections.fetch_sub(1, Ordering::AcqRel);
        vs.counters().refuse(Refuse::ConnectionLimit);
        tracing::info!(virtual_server = %vs.name, %peer, "refused: {cap} connections open");
        let reply = Reply::new(421, Status(4, 7, 0), format!("{} Too many connections, try again later", vs.fqdn));
        refuse(&mut stream, reply).await;
        return;
    }
    let counters = vs.counters();
    counters.connections_total.fetch_add(1, Ordering::Relaxed);
    counters.connections_current.fetch_add(1, Ordering::Relaxed);
    shard.sessions.set(shard.sessions.get() + 1);
    tracing::debug!(virtual_server = %vs.name, %peer, "connection opened");
    serve(stream, session, pending, shard.clone()).await;
    shard.sessions.set(shard.sessions.get() - 1);
    counters.connections_current.fetch_sub(1, Ordering::Relaxed);
    vs.open_connections.fetch_sub(1, Ordering::AcqRel);
}

/// `[access]`: `None` admits the client, else the refusal. A `domain:` entry waits for the
/// reverse lookup (the greeting waits with it).
async fn admit(session: &mut Session, mut pending: Option<&mut PendingName>) -> Option<Reply> {
    loop {
        match session.admission() {
            Verdict::Allow => return None,
            Verdict::Deny(reason) => return Some(session.refuse_connection(reason)),
            Verdict::NeedName => {
                let name = match pending.as_deref_mut() {
                    Some(pending) => pending.wait(LOOKUP_TIMEOUT).await,
                    None => ClientName::Failed,
                };
                session.set_client_name(name);
            }
        }
    }
}

/// Sends `reply` and closes the connection without reading anything.
async fn refuse(stream: &mut TcpStream, reply: Reply) {
    let mut out = Vec::new();
    reply.encode(&mut out);
    let _ = stream.write_all(&out).await;
    let _ = stream.close().await;
}
