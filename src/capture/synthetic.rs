//! A deterministic moving scene for demos and tests: a landscape with a sun, hills, a house
//! and a figure that stands in for a visitor. Same seed, same frames.
//!
//! The figure either sways in view all the time, or follows a visitor's script on a loop:
//! away, walks in, holds still (to be painted), looks around, walks out. The script's
//! timing and the side the figure comes from vary with the seed and the round.

use image::{Rgb, RgbImage};

use super::{CaptureError, FrameSource, Pacer};
pub use crate::config::SyntheticVisitor;

/// Seconds a scripted figure takes to walk in or out.
pub const WALK_S: f64 = 1.5;

/// Where the figure is at time `t`: its horizontal centre as a fraction of the width,
/// or `None` when it is out of view.
pub fn figure_position(visitor: SyntheticVisitor, seed: u64, t: f64) -> Option<f64> {
    match visitor {
        SyntheticVisitor::Always => Some(0.5 + 0.12 * (0.6 * t).sin()),
        SyntheticVisitor::Scripted { away_s, still_s, stay_s } => {
            let stay = stay_s.max(still_s);
            let period = away_s + 2.0 * WALK_S + stay;
            let round = (t / period).floor();
            let local = t - round * period;
            let r = round as u64;
            let from_left = hash01(seed, 100 + 3 * r) < 0.5;
            let spot = 0.42 + 0.16 * hash01(seed, 101 + 3 * r) as f64;
            let outside = if from_left { -0.15 } else { 1.15 };
            let walk = |s: f64| {
                let s = s.clamp(0.0, 1.0);
                s * s * (3.0 - 2.0 * s)
            };
            if local < away_s {
                None
            } else if local < away_s + WALK_S {
                Some(outside + (spot - outside) * walk((local - away_s) / WALK_S))
            } else if local < away_s + WALK_S + still_s {
                Some(spot)
            } else if local < away_s + WALK_S + stay {
                // Looking around: small steps to and fro.
                let s = local - (away_s + WALK_S + still_s);
                Some(spot + 0.06 * (1.3 * s).sin())
            } else {
                let s = (local - (away_s + WALK_S + stay)) / WALK_S;
                let at = spot + 0.06 * (1.3 * (stay - still_s)).sin();
                Some(at + (outside - at) * walk(s))
            }
        }
    }
}

pub struct SyntheticScene {
    seed: u64,
    width: u32,
    height: u32,
    frame: u64,
    fps: f64,
    pacer: Option<Pacer>,
    visitor: SyntheticVisitor,
    /// A photo of a face the figure wears (a real face, for the face detector).
    face: Option<std::sync::Arc<RgbImage>>,
}

fn hash01(seed: u64, k: u64) -> f32 {
    // SplitMix64: enough randomness for colours and positions.
    let mut z = seed.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
}

impl SyntheticScene {
    /// `fps` 0 = no pacing (as fast as asked, for tests).
    pub fn new(seed: u64, fps: f64, width: u32, height: u32) -> SyntheticScene {
        let pacer = (fps > 0.0).then(|| Pacer::new(fps));
        SyntheticScene {
            seed,
            width: width.max(16),
            height: height.max(16),
            frame: 0,
            fps: fps.max(1.0),
            pacer,
            visitor: SyntheticVisitor::Always,
            face: None,
        }
    }

    /// The figure wears this photo as its head (a head-and-shoulders portrait: its middle
    /// is drawn over the head, the size of a visitor's face at the kiosk).
    pub fn with_face(mut self, face: Option<std::sync::Arc<RgbImage>>) -> SyntheticScene {
        self.face = face;
        self
    }

    pub fn with_visitor(mut self, visitor: SyntheticVisitor) -> SyntheticScene {
        self.visitor = visitor;
        self
    }

    /// The frame at time `t` seconds (pure function of seed and t).
    pub fn render(&self, t: f32) -> RgbImage {
        let (w, h) = (self.width as f32, self.height as f32);
        let hue = |k: u64| hash01(self.seed, k);
        let sky_top = [40.0 + 60.0 * hue(1), 90.0 + 60.0 * hue(2), 170.0 + 60.0 * hue(3)];
        let sky_low = [230.0, 180.0 + 40.0 * hue(4), 140.0];
        let sun = (w * (0.2 + 0.6 * hue(5)) + 8.0 * t.sin(), h * 0.22, h * 0.09);
        let figure_x = figure_position(self.visitor, self.seed, t as f64).map(|f| w * f as f32);
        // A scripted visitor stands close to the camera: drawn larger than the swaying figure.
        let k = if matches!(self.visitor, SyntheticVisitor::Always) { 1.0 } else { 1.7 };
        let figure_y = h * 0.62;
        let coat = [160.0 + 80.0 * hue(6), 40.0 + 40.0 * hue(7), 40.0 + 60.0 * hue(8)];
        RgbImage::from_fn(self.width, self.height, |px, py| {
            let (x, y) = (px as f32 + 0.5, py as f32 + 0.5);
            let v = y / h;
            let mut c = [0.0f32; 3];
            for i in 0..3 {
                c[i] = sky_top[i] * (1.0 - v) + sky_low[i] * v;
            }
            let d_sun = ((x - sun.0).powi(2) + (y - sun.1).powi(2)).sqrt();
            if d_sun < sun.2 {
                c = [255.0, 220.0, 90.0];
            }
            let hill1 = h * (0.62 + 0.06 * (x / w * 6.0 + hue(9) * 6.0).sin());
            let hill2 = h * (0.74 + 0.04 * (x / w * 9.0 + 1.0).cos());
            if y > hill1 {
                c = [60.0, 120.0 + 40.0 * hue(10), 60.0];
            }
            if y > hill2 {
                c = [90.0 + 30.0 * ((x * 0.05).sin()), 150.0, 70.0];
            }
            // A house on the left with a red roof.
            let (hx, hy, hw, hh) = (w * 0.12, h * 0.50, w * 0.16, h * 0.16);
            if x > hx && x < hx + hw && y > hy && y < hy + hh {
                c = [225.0, 215.0, 190.0];
                if x > hx + hw * 0.4 && x < hx + hw * 0.6 && y > hy + hh * 0.45 {
                    c = [90.0, 60.0, 40.0];
                }
            }
            let roof = hy - (hw * 0.5 - (x - (hx + hw * 0.5)).abs()) * 0.6;
            if x > hx - 4.0 && x < hx + hw + 4.0 && y > roof && y <= hy {
                c = [170.0, 50.0, 40.0];
            }
            // The visitor: head and coat.
            let Some(figure_x) = figure_x else { return rgb(c) };
            let head = ((x - figure_x).powi(2) + (y - (figure_y - k * h * 0.17)).powi(2)).sqrt();
            let body = ((x - figure_x) / (k * w * 0.07)).powi(2) + ((y - figure_y) / (k * h * 0.14)).powi(2);
            if body < 1.0 {
                c = coat;
            }
            if let Some(face) = &self.face {
                // The portrait, a square of 4 head radii centred on the head.
                let side = 4.0 * k * h * 0.06;
                let (fx, fy) = (x - (figure_x - side / 2.0), y - (figure_y - k * h * 0.17 - side / 2.0));
                if (0.0..side).contains(&fx) && (0.0..side).contains(&fy) {
                    let (u, v) = ((fx / side * face.width() as f32) as u32, (fy / side * face.height() as f32) as u32);
                    let p = face.get_pixel(u.min(face.width() - 1), v.min(face.height() - 1));
                    return *p;
                }
            } else if head < k * h * 0.06 {
                c = [235.0, 195.0, 160.0];
                let eye_y = figure_y - k * h * 0.19;
                if (y - eye_y).abs() < 2.0 * k && ((x - figure_x).abs() - k * h * 0.022).abs() < 3.0 * k {
                    c = [40.0, 30.0, 30.0]; // eyes
                }
            }
            rgb(c)
        })
    }
}

fn rgb(c: [f32; 3]) -> Rgb<u8> {
    Rgb([c[0].clamp(0.0, 255.0) as u8, c[1].clamp(0.0, 255.0) as u8, c[2].clamp(0.0, 255.0) as u8])
}

impl FrameSource for SyntheticScene {
    fn name(&self) -> String {
        format!("synthetic scene (seed {}, {}x{})", self.seed, self.width, self.height)
    }
    fn next_frame(&mut self) -> Result<RgbImage, CaptureError> {
        if let Some(p) = &mut self.pacer {
            p.wait();
        }
        let t = self.frame as f32 / self.fps as f32;
        self.frame += 1;
        Ok(self.render(t))
    }
}

/// The synthetic scene as a camera: the real capture thread (latest frame wins) delivering
/// the scene that `make` builds, at its frame rate, until the handle is stopped or dropped.
/// For benches and tests that want a camera without one.
pub fn camera(make: impl Fn() -> SyntheticScene + Send + 'static) -> super::CaptureHandle {
    super::spawn_capture(
        Box::new(move || Ok(Box::new(make()) as Box<dyn FrameSource>)),
        None,
        super::CaptureOptions::default(),
    )
}
