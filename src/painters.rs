//! Whoever paints for this kiosk, chosen from its config: the farm's painters when
//! `engine.remote` is set (with this kiosk's own engine as the fallback), else the kiosk's
//! own engine. The only module that knows both painters; both sit behind the painting seam.

use crate::capture::Frame;
use crate::painting::{WorkerConfig, WorkerHandle};

/// The painter the config asks for.
pub fn start(config: WorkerConfig, frames: crossbeam_channel::Receiver<Frame>) -> WorkerHandle {
    match config.remote.clone() {
        Some(remote) => crate::farm::remote::spawn_remote_worker(config, remote, frames),
        None => crate::worker::spawn_worker(config, frames),
    }
}
