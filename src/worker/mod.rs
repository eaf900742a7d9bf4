//! The worker: one thread that owns the style engine (all tch tensors stay on it) and
//! talks to the rest only through channels: frames and commands in, snapshots out.

mod config;
mod messages;
mod outbox;
mod run;
mod styles;

pub use config::{Intake, WorkerConfig};
pub use messages::{Command, Event, Fault, Notice, Snapshot, StyleSelection, WorkerState, WorkerStatus};
pub use run::{WorkerHandle, spawn_worker};
