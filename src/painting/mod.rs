//! The painting seam: the one contract between the kiosk and its *worker*, whoever paints for
//! it. Commands and frames go in, events (snapshots, notices) come out, and a status can be
//! read at any time ([`WorkerHandle`]). Two workers implement it: the local worker, the kiosk's
//! own engine on a thread (`crate::worker`), and the remote worker, which hands jobs to the
//! farm's painter processes over NATS (`crate::farm::remote`, with a local worker as its
//! fallback); `crate::workers::start` chooses between them. The local worker and the painter
//! process paint with the one loop kept here ([`PaintLoop`]: the [`crate::engine::Refiner`]'s
//! steps, snapshot pacing, drills and the making-of) and the one [`StyleCache`]. This module
//! imports neither side.

mod config;
mod handle;
pub mod making_of;
mod messages;
pub(crate) mod outbox;
mod paint_loop;
pub mod styles;

pub use config::{Intake, WorkerConfig};
pub use handle::WorkerHandle;
pub use making_of::MakingOf;
pub use messages::{
    Command, Event, FarmStatus, Fault, Notice, PainterSeen, Snapshot, StyleSelection, WorkerState, WorkerStatus,
};
pub use paint_loop::{Pacing, PaintLoop, Stepped};
pub use styles::StyleCache;
