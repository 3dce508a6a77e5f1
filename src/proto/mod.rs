//! The pure SMTP protocol core: bytes in, values out. No sockets, no executor.

pub mod address;
pub mod command;
pub mod data;
mod domain;
mod eol;
pub mod headers;
mod path;
pub mod reply;
pub mod stuff;
