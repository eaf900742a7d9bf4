//! The worker: whoever paints, behind one contract ([`WorkerHandle`]): frames and commands
//! in, snapshots out. Locally that is one thread that owns the style engine (all tch tensors
//! stay on it); with `engine.remote` it is the painter farm, with the local thread as fallback.

mod config;
mod handle;
mod messages;
pub(crate) mod outbox;
mod run;
mod styles;

pub use config::{Intake, WorkerConfig};
pub use handle::WorkerHandle;
pub use messages::{
    Command, Event, FarmStatus, Fault, Notice, PainterSeen, Snapshot, StyleSelection, WorkerState, WorkerStatus,
};
pub(crate) use run::panic_message;
pub use run::spawn_worker;

/// The worker the config asks for: the farm's remote worker with `remote`, else a local thread.
pub fn start(config: WorkerConfig, frames: crossbeam_channel::Receiver<crate::capture::Frame>) -> WorkerHandle {
    match config.remote.clone() {
        Some(remote) => crate::farm::remote::spawn_remote_worker(config, remote, frames),
        None => spawn_worker(config, frames),
    }
}
