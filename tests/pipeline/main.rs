//! Capture, worker and service on CPU at tiny sizes: the pipeline with injected faults, the
//! real camera path against the V4L2 test camera, presence, health and the watchdog.

#[path = "../common/mod.rs"]
mod common;

mod camera_v4l2;
mod pipeline;
mod presence;
mod service;
