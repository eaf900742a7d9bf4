//! The installation's configuration (`config/installation.ron`): every setting has a
//! documented default, unknown fields are rejected, and errors point at file:line:col.
//! One file per section, every section's type here (the code that reads a section imports
//! it from here; nothing here imports the product); `installation.rs` puts them together.

mod console;
mod display;
mod engine;
mod faces;
mod installation;
mod journey;
mod keepsake;
pub mod keys;
mod kiosk;
mod language;
mod presence;
mod remote;
mod ron_file;
mod service;
mod share;
mod source;

pub use console::ConsoleConfig;
pub use display::DisplayConfig;
pub use engine::{EngineConfig, GpuSchedule, Policy};
pub use faces::{Detector, FaceDetectionConfig, MTCNN_MODEL, SEETA_MODEL};
pub use installation::InstallationConfig;
pub use journey::{CaptureTrigger, JourneyConfig};
pub use keepsake::KeepsakeConfig;
pub use kiosk::{KioskConfig, ReachConfig, VoiceConfig};
pub use language::LanguageConfig;
pub use presence::PresenceConfig;
pub use remote::{RemoteConfig, server_urls, valid_name};
pub use ron_file::{ConfigError, load_ron, parse_ron, to_ron_string};
pub use service::{ServiceConfig, check_address};
pub use share::ShareConfig;
pub use source::{CameraConfig, SourceConfig, SyntheticVisitor};

/// The longest time any setting may name, seconds (a day): beyond it a number is a typo,
/// and `inf` would panic where it becomes a `Duration`.
pub const MAX_SECONDS: f64 = 86_400.0;
/// The longest frame edge a source may produce, px.
pub const MAX_FRAME_EDGE: u32 = 8192;
/// The public-domain portrait the demo's visitor wears (provenance: assets/faces/PROVENANCE.md).
pub const DEMO_FACE: &str = "assets/faces/hopper.png";
/// Most finished paintings the attract loop keeps in memory.
pub const MAX_RECENT_PAINTINGS: usize = 20;

/// A setting the installation refuses, as data: its dotted field (`engine.style.size`, which
/// the error's line is found from), what is wrong, and what to write instead.
#[derive(Debug)]
pub(crate) struct Problem {
    pub field: String,
    pub message: String,
    pub fix: String,
}

/// What each section's check returns.
pub(crate) type Checked = Result<(), Problem>;

/// Refuses `field` with `message` and `fix`.
pub(crate) fn problem(field: &str, message: String, fix: &str) -> Checked {
    Err(Problem { field: field.to_string(), message, fix: fix.to_string() })
}
