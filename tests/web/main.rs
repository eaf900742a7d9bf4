//! The staff console and the take-home links against their real servers, with a real
//! Chromium.

#[path = "../common/mod.rs"]
mod common;

mod console;
mod share;
