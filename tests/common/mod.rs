//! Shared fixtures: everything here is made by the project itself (no ../shared).
#![allow(dead_code)]

use std::path::PathBuf;

pub mod browser;
pub mod local_server;
pub mod nats;
#[cfg(feature = "gui")]
pub mod xvfb;

use gallery_painter::capture::synthetic::SyntheticScene;
use gallery_painter::engine::{self, EngineDevice, Pooling, Vgg};
use image::RgbImage;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn weights() -> PathBuf {
    let p = root().join("assets/models/vgg16-caffe.safetensors");
    assert!(p.is_file(), "{} is missing: run scripts/setup.sh first (the test command does)", p.display());
    p
}

pub fn cpu() -> EngineDevice {
    engine::device::select(engine::DevicePreference::Cpu, engine::Precision::Fp32, 2, Default::default()).unwrap()
}

pub fn vgg() -> Vgg {
    Vgg::load(&weights(), tch::Device::Cpu, Pooling::Max).unwrap()
}

/// A deterministic photo stand-in.
pub fn photo(w: u32, h: u32) -> RgbImage {
    SyntheticScene::new(11, 0.0, w, h).render(0.0)
}

pub fn style_path(name: &str) -> PathBuf {
    root().join("assets/styles").join(name)
}

pub fn style(name: &str) -> RgbImage {
    engine::imageio::load_rgb(&style_path(name)).unwrap()
}

pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.as_raw().len() as f64
}
