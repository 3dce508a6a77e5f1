//! Listening sockets for the shards: `SO_REUSEPORT` so every shard accepts on the same address,
//! and `SO_REUSEADDR` (which glommio's own `TcpListener::bind` does not set) so the accepted
//! connections inherit it: their TIME-WAIT remnants then do not stop a plain `SO_REUSEADDR`
//! bind of the address, such as the load generator sink's check that no one else listens.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};

use glommio::net::TcpListener;
use socket2::{Domain, Protocol, Socket, Type};

/// Pending connections the kernel queues per listener before `accept`.
const BACKLOG: i32 = 4096;

/// A glommio listener on `addr` for the calling executor.
pub fn listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    // SAFETY: the descriptor was just created, is bound and listening, and is owned by nobody
    // else once `into_raw_fd` gives it up.
    Ok(unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) })
}
