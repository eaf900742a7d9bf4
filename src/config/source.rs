//! `source: ..` and `fallback: ..`: where frames come from (a camera, a still, a slideshow,
//! the synthetic demo scene).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Checked, DEMO_FACE, MAX_FRAME_EDGE, MAX_SECONDS, problem};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// Camera index as `list-cameras` prints it; ignored if `name` is set.
    pub index: u32,
    /// Part of the camera's name (case-insensitive), e.g. "Logitech".
    pub name: Option<String>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Selfie view: flip left-right so visitors see themselves as in a mirror.
    pub mirror: bool,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig { index: 0, name: None, width: 640, height: 480, fps: 30, mirror: true }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SourceConfig {
    Camera(CameraConfig),
    /// One image, repeated.
    Still {
        path: PathBuf,
    },
    /// Every PNG/JPEG in a folder, in name order, one every `interval_s`.
    Slideshow {
        folder: PathBuf,
        interval_s: f64,
    },
    /// A deterministic moving scene (no camera needed): demos and tests.
    Synthetic {
        seed: u64,
        fps: f64,
        width: u32,
        height: u32,
        /// The figure: `Always` in view, or `Scripted(..)`, a visitor who comes and goes.
        #[serde(default)]
        visitor: SyntheticVisitor,
        /// A portrait the figure wears as its face, so the face detector sees a visitor.
        #[serde(default)]
        face: Option<PathBuf>,
    },
}

impl SourceConfig {
    /// The bundled demo: the synthetic scene with a scripted visitor on a loop.
    pub fn demo() -> SourceConfig {
        SourceConfig::Synthetic {
            seed: 7,
            fps: 15.0,
            width: 640,
            height: 480,
            visitor: SyntheticVisitor::Scripted { away_s: 8.0, still_s: 8.0, stay_s: 90.0 },
            face: Some(PathBuf::from(DEMO_FACE)),
        }
    }
}

impl SourceConfig {
    /// `name`: the setting this source is (`source` or `fallback`).
    pub(super) fn check(&self, name: &str) -> Checked {
        let bad = problem;
        match self {
            SourceConfig::Synthetic { fps, width, height, visitor, .. } => {
                if let SyntheticVisitor::Scripted { away_s, still_s, stay_s } = visitor
                    && ![away_s, still_s, stay_s].iter().all(|v| (0.0..=3600.0).contains(*v))
                {
                    return bad(
                        &format!("{name}.away_s"),
                        format!(
                            "{name}: Scripted visitor times ({away_s}, {still_s}, {stay_s}) must be seconds within 0..3600"
                        ),
                        "use e.g. visitor: Scripted(away_s: 8.0, still_s: 8.0, stay_s: 90.0)",
                    );
                }
                if !(*fps > 0.0 && *fps <= 240.0) {
                    return bad(
                        &format!("{name}.fps"),
                        format!("{name}: Synthetic fps {fps} must be within 0 < fps <= 240"),
                        "use e.g. fps: 15.0",
                    );
                }
                if !(16..=MAX_FRAME_EDGE).contains(width) || !(16..=MAX_FRAME_EDGE).contains(height) {
                    return bad(
                        &format!("{name}.width"),
                        format!("{name}: Synthetic {width}x{height} must be within 16..{MAX_FRAME_EDGE} px each way"),
                        "use e.g. width: 640, height: 480",
                    );
                }
            }
            SourceConfig::Camera(c) => {
                if !(1..=MAX_FRAME_EDGE).contains(&c.width) || !(1..=MAX_FRAME_EDGE).contains(&c.height) {
                    return bad(
                        &format!("{name}.width"),
                        format!(
                            "{name}: camera size {}x{} must be within 1..{MAX_FRAME_EDGE} px each way",
                            c.width, c.height
                        ),
                        "use a size the camera offers (list-cameras), e.g. width: 640, height: 480",
                    );
                }
                if !(1..=240).contains(&c.fps) {
                    return bad(
                        &format!("{name}.fps"),
                        format!("{name}: camera fps {} must be within 1..240", c.fps),
                        "use e.g. fps: 30",
                    );
                }
            }
            SourceConfig::Slideshow { interval_s, .. } => {
                if !(0.1..=MAX_SECONDS).contains(interval_s) {
                    return bad(
                        &format!("{name}.interval_s"),
                        format!("{name}: Slideshow interval_s {interval_s} must be within 0.1..{MAX_SECONDS}"),
                        "use e.g. interval_s: 20.0",
                    );
                }
            }
            SourceConfig::Still { .. } => {}
        }
        Ok(())
    }
}

/// What the synthetic scene's figure does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum SyntheticVisitor {
    /// Always in view, swaying gently (a continuous test picture).
    #[default]
    Always,
    /// A visitor on a loop: `away_s` nobody, then walks in, holds still for `still_s`,
    /// looks around until `stay_s` have passed, walks out.
    Scripted { away_s: f64, still_s: f64, stay_s: f64 },
}
