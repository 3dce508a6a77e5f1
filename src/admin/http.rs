//! The admin HTTP server: a plain thread (not a shard) answering `GET /metrics`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::metrics::Metrics;

/// Binds `addr` and serves until the process exits. Returns the bound address and the thread.
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let server = tiny_http::Server::http(addr).map_err(std::io::Error::other)?;
    let bound =
        server.server_addr().to_ip().ok_or_else(|| std::io::Error::other("admin listener is not an IP socket"))?;
    let thread = std::thread::Builder::new().name("tern-admin".into()).spawn(move || {
        for request in server.incoming_requests() {
            let response = respond(request.method(), request.url(), &metrics);
            if let Err(e) = request.respond(response) {
                tracing::debug!("admin: response failed: {e}");
            }
        }
    })?;
    Ok((bound, thread))
}

fn respond(method: &tiny_http::Method, url: &str, metrics: &Metrics) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split('?').next().unwrap_or(url);
    match (method, path) {
        (tiny_http::Method::Get, "/metrics") => {
            let content_type =
                tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/plain; version=0.0.4; charset=utf-8"[..])
                    .expect("static header is valid");
            tiny_http::Response::from_string(metrics.render()).with_header(content_type)
        }
        (_, "/metrics") => tiny_http::Response::from_string("method not allowed\n").with_status_code(405),
        _ => tiny_http::Response::from_string("not found\n").with_status_code(404),
    }
}
