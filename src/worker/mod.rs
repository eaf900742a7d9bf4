//! The kiosk's own painter: one thread that owns the style engine (all tch tensors stay on
//! it), paints the frames it is given and publishes snapshots, behind the painting seam
//! ([`crate::painting::WorkerHandle`]). It restarts itself after a panic and paints smaller
//! after running out of GPU memory.

mod run;

pub(crate) use run::panic_message;
pub use run::spawn_worker;
