//! The painter farm against real nats-servers and painter processes.

#[path = "../common/mod.rs"]
mod common;

mod attacks;
mod cluster;
mod farm;
mod painter_faults;
mod security;
