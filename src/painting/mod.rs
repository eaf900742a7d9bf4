//! The painting seam: the one contract between the kiosk and whoever paints for it. Commands
//! and frames go in, events (snapshots, notices) come out, and a status can be read at any
//! time ([`WorkerHandle`]). Two painters implement it: the kiosk's own engine on a thread
//! (`crate::worker`) and the farm's painters over NATS (`crate::farm::remote`, with the
//! local thread as its fallback); `crate::painters::start` chooses between them. This
//! module imports neither.

mod config;
mod handle;
mod messages;
pub(crate) mod outbox;

pub use config::{Intake, WorkerConfig};
pub use handle::WorkerHandle;
pub use messages::{
    Command, Event, FarmStatus, Fault, Notice, PainterSeen, Snapshot, StyleSelection, WorkerState, WorkerStatus,
};
