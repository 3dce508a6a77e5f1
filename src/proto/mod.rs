//! The pure SMTP protocol core: bytes in, values out. No sockets, no executor.

pub mod address;
pub mod command;
pub mod data;
pub mod headers;
pub mod reply;
pub mod stuff;
