//! How a worker is set up: one constructor from the installation config, used by the app,
//! the benchmark and the tests alike (they change single fields after it).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::messages::StyleSelection;
use crate::config::{EngineConfig, GpuSchedule, Policy};
use crate::engine::{EngineDevice, LiveSettings, StyleParams};

/// Where the worker gets the frames it paints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Intake {
    /// From the capture stream, as the policy asks (after each hold, or continuously).
    #[default]
    Stream,
    /// Only frames handed over with [`super::Command::PaintFrame`] (the visitor journey).
    OnCommand,
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Relative style paths resolve against this.
    pub root: PathBuf,
    pub weights: PathBuf,
    pub device: EngineDevice,
    pub policy: Policy,
    pub snapshot_every: u32,
    /// Snapshots between the first and the finished one at most this often.
    pub snapshot_interval: Duration,
    pub hold_finished: Duration,
    pub live: LiveSettings,
    /// Parameters used until a selection brings its own.
    pub default_params: StyleParams,
    /// On a GPU: the size and schedule that replace every selection's.
    pub on_gpu: Option<GpuSchedule>,
    pub initial: Option<StyleSelection>,
    pub restart_delay: Duration,
    pub intake: Intake,
    /// Paint on the farm's painters (the local engine is the fallback).
    pub remote: Option<crate::config::RemoteConfig>,
}

impl WorkerConfig {
    /// The worker `engine: (..)` describes; `weights` resolves against `root`.
    pub fn from_config(root: &Path, engine: &EngineConfig, device: EngineDevice) -> WorkerConfig {
        WorkerConfig {
            root: root.to_path_buf(),
            weights: crate::paths::resolve(root, &engine.weights),
            device,
            policy: engine.policy,
            snapshot_every: engine.snapshot_every,
            snapshot_interval: Duration::from_secs_f64(engine.snapshot_interval_s),
            hold_finished: Duration::from_secs_f64(engine.hold_finished_s),
            live: engine.live,
            default_params: engine.style.clone(),
            on_gpu: engine.on_gpu,
            initial: None,
            restart_delay: Duration::from_millis(300),
            intake: Intake::Stream,
            remote: engine.remote.clone(),
        }
    }
}
