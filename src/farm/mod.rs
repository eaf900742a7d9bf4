//! The painter farm: several kiosks share painters (GPU boxes in the back room) through
//! NATS JetStream. No Bevy here: the painter service runs headless, and the kiosk's remote
//! worker keeps the worker contract the display already uses.

pub mod connection;
pub mod making_of;
pub mod painter_service;
pub mod proofs;
pub mod protocol;
pub mod remote;
pub mod setup;
pub mod style_uploads;
pub mod trust;

pub use connection::FarmConnection;
