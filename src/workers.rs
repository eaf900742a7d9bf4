//! This kiosk's worker, chosen from its config: the remote worker (jobs to the farm's painter
//! processes, with a local worker as the fallback) when `engine.remote` is set, else the local
//! worker (the kiosk's own engine). The only module that knows both; both sit behind the
//! painting seam.

use crate::capture::Frame;
use crate::painting::{WorkerConfig, WorkerHandle};

/// The worker the config asks for.
pub fn start(config: WorkerConfig, frames: crossbeam_channel::Receiver<Frame>) -> WorkerHandle {
    match config.remote.clone() {
        Some(remote) => crate::farm::remote::spawn_remote_worker(config, remote, frames),
        None => crate::worker::spawn_worker(config, frames),
    }
}
