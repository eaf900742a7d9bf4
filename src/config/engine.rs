//! `engine: (..)`: the network, the device and its GPU levers, the painting's schedule on a
//! CPU and on a GPU, snapshots, and the Live mirror's settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Checked, MAX_SECONDS, RemoteConfig, problem};
use crate::engine::{DevicePreference, GpuOptions, LiveSettings, Precision, StyleParams};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    /// Freeze a frame, paint it to the end of its schedule, then take the next.
    #[default]
    Paint,
    /// Refine continuously; new frames warm-start from the current painting.
    Live,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// VGG weights (made by scripts/setup.sh).
    pub weights: PathBuf,
    pub device: DevicePreference,
    pub precision: Precision,
    /// libtorch CPU threads (0 = all cores but one, leaving one for the display).
    pub threads: usize,
    /// GPU levers (cuDNN benchmark, TF32, CUDA graphs, channels_last); ignored on CPU.
    pub gpu: GpuOptions,
    pub policy: Policy,
    /// Publish the painting every this many iterations.
    pub snapshot_every: u32,
    /// ... and at most every this many seconds (the first and the finished painting always
    /// go): a GPU paints 100+ iterations a second, more than the eye or a crossfade needs,
    /// and each snapshot costs a copy from the device (on a painter also a JPEG encoding).
    pub snapshot_interval_s: f64,
    /// Paint policy: how long a finished painting stays before the next capture, seconds.
    pub hold_finished_s: f64,
    /// Live policy: how the painting follows the camera from frame to frame.
    pub live: LiveSettings,
    /// Default method parameters; scene entries may override some.
    pub style: StyleParams,
    /// Where the painting runs on a GPU (this kiosk's own engine, or a farm painter with this
    /// config): the size and schedule to paint at instead of `style`'s (and a scene entry's).
    /// `None`: `style` everywhere.
    pub on_gpu: Option<GpuSchedule>,
    /// Paint on shared painters over NATS JetStream (see docs/farm.md "Several kiosks, shared
    /// painters"); this kiosk's own engine paints whenever the farm cannot.
    pub remote: Option<RemoteConfig>,
}

/// The painting's size and schedule on a GPU, chosen from measurements on an H200 (docs/engine.md,
/// "Performance"): a visitor's painting at 1536 px (3 levels x 100 iterations) was finished
/// 3.4 s after the capture, and the Live mirror at 512 px painted 13 camera frames a second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpuSchedule {
    /// Longer edge of a visitor's painting (Paint), px.
    pub size: u32,
    pub levels: u32,
    /// Per level.
    pub iterations: u32,
    /// Longer edge of the Live mirror, px.
    pub live_size: u32,
}

impl Default for GpuSchedule {
    fn default() -> Self {
        GpuSchedule { size: 1536, levels: 3, iterations: 100, live_size: 512 }
    }
}

impl GpuSchedule {
    /// `params` as painted on a GPU under `policy`.
    pub fn apply(&self, params: &StyleParams, policy: Policy) -> StyleParams {
        match policy {
            Policy::Paint => {
                StyleParams { size: self.size, levels: self.levels, iterations: self.iterations, ..params.clone() }
            }
            Policy::Live => StyleParams { size: self.live_size, ..params.clone() },
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            weights: crate::paths::DEFAULT_WEIGHTS.into(),
            device: DevicePreference::Auto,
            precision: Precision::Fp32,
            threads: 0,
            gpu: GpuOptions::default(),
            policy: Policy::Paint,
            snapshot_every: 2,
            snapshot_interval_s: 0.1,
            hold_finished_s: 8.0,
            live: LiveSettings::default(),
            style: StyleParams { size: 256, iterations: 40, ..StyleParams::default() },
            on_gpu: Some(GpuSchedule::default()),
            remote: None,
        }
    }
}

impl EngineConfig {
    pub(super) fn check(&self) -> Checked {
        let bad = problem;
        let e = self;
        if let Err(i) = e.style.validate() {
            let field = format!("engine.style.{}", i.field);
            return bad(&field, format!("engine.style: {}", i.message), "correct the value in engine.style");
        }
        if let Err(i) = e.live.validate() {
            return bad(
                &format!("engine.live.{}", i.field),
                format!("engine.{}", i.message),
                "correct the value in engine.live (the defaults are in config/installation.ron)",
            );
        }
        if let Some(r) = &e.remote {
            r.check()?;
        }
        if let Some(gpu) = &e.on_gpu {
            for policy in [Policy::Paint, Policy::Live] {
                if let Err(i) = gpu.apply(&e.style, policy).validate() {
                    let field = match i.field.as_str() {
                        "levels" => "engine.on_gpu.levels",
                        "iterations" => "engine.on_gpu.iterations",
                        _ if policy == Policy::Live => "engine.on_gpu.live_size",
                        _ => "engine.on_gpu.size",
                    };
                    return bad(
                        field,
                        format!("engine.on_gpu: {}", i.message),
                        "correct the value in engine.on_gpu, or set on_gpu: None",
                    );
                }
            }
        }
        if !(1..=10_000).contains(&e.snapshot_every) {
            return bad(
                "engine.snapshot_every",
                format!("engine.snapshot_every {} must be within 1..10000", e.snapshot_every),
                "use e.g. 2",
            );
        }
        if !(0.0..=10.0).contains(&e.snapshot_interval_s) {
            return bad(
                "engine.snapshot_interval_s",
                format!("engine.snapshot_interval_s {} must be within 0..10", e.snapshot_interval_s),
                "use e.g. 0.1 (at most 10 snapshots a second), or 0 for one every snapshot_every iterations",
            );
        }
        if !(0.0..=MAX_SECONDS).contains(&e.hold_finished_s) {
            return bad(
                "engine.hold_finished_s",
                format!("engine.hold_finished_s {} must be seconds within 0..{MAX_SECONDS}", e.hold_finished_s),
                "use e.g. hold_finished_s: 8.0",
            );
        }
        if e.threads > 1024 {
            return bad(
                "engine.threads",
                format!("engine.threads {} is more than 1024", e.threads),
                "use 0 (all cores but one)",
            );
        }
        Ok(())
    }
}
