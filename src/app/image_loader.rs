//! Images decoded off the frame thread: a big artwork scan takes a few hundred ms to decode,
//! which would freeze the display (and its watchdog) if done in a system. Each load runs on
//! Bevy's async compute pool and is picked up by a later frame, scaled down once to what the
//! screen can show.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use bevy::tasks::{AsyncComputeTaskPool, Task, futures::check_ready};
use image::RgbImage;

/// The longest edge kept for what the display shows (a 4K screen's long edge).
pub const DISPLAY_EDGE: u32 = 3840;

/// One image being decoded in the background.
pub struct Loading {
    pub path: PathBuf,
    pub modified: Option<SystemTime>,
    task: Task<Result<Arc<RgbImage>, String>>,
}

impl Loading {
    /// Starts decoding `path` (with the engine's decoding limits), scaled to `long_edge`.
    pub fn start(path: PathBuf, long_edge: u32) -> Loading {
        let modified = crate::paths::modified(&path);
        let p = path.clone();
        let task = AsyncComputeTaskPool::get().spawn(async move {
            crate::engine::imageio::load_rgb_at_most(&p, long_edge).map(Arc::new).map_err(|e| e.to_string())
        });
        Loading { path, modified, task }
    }

    /// The result once it is there (polled each frame; never blocks).
    pub fn poll(&mut self) -> Option<Result<Arc<RgbImage>, String>> {
        check_ready(&mut self.task)
    }
}
