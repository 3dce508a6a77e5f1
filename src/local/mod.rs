//! Local delivery: the Drop directory.
