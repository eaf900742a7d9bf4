//! The worker: one thread that owns the style engine (all tch tensors stay on it) and
//! talks to the rest only through channels: frames and commands in, snapshots out.

mod messages;
mod run;
mod styles;

pub use messages::{Command, Event, Fault, Notice, Snapshot, StyleSelection, WorkerState, WorkerStatus};
pub use run::{Intake, WorkerConfig, WorkerHandle, spawn_worker};
