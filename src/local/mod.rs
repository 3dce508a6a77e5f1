//! Local delivery: messages for the default and alias domains become files in the Drop
//! directory (the spec's Drop folder; there are no mailboxes).

mod drop;

pub use drop::{render, write_atomically, DropDir};
