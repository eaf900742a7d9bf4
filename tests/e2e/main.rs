//! End to end: the real binary under Xvfb, as a visitor sees it.

#[path = "../common/mod.rs"]
mod common;

mod e2e_layout;
mod e2e_visitors;
mod e2e_xvfb;
