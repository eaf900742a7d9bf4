//! Live video: short-term temporal consistency after Ruder, Dosovitskiy & Brox (2016),
//! "Artistic style transfer for videos", with zero optical flow.
//!
//! A gallery camera does not move, so the previous painting is already aligned with the new
//! frame wherever the scene did not change; where it changed (the visitor moved) the warp is
//! not valid. The change mask from frame differencing plays the role of Ruder's occlusion
//! mask `c`: the temporal loss `sum c * (x - prev)^2` holds the background still while the
//! visitor's region is free to follow the new frame.

use super::invalid::Invalid;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// How the Live policy carries a painting from one camera frame to the next.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// Iterations painted on each frame before taking the next one.
    pub iterations_per_frame: u32,
    /// Where the frame changed: share of the previous painting kept in the starting point
    /// (the rest is the new photo). 0 starts the changed region from the photo.
    pub keep: f64,
    /// Weight of the temporal loss `sum c * (x - prev)^2` (0 turns it off).
    pub temporal_weight: f64,
    /// A pixel counts as changed when the frame moved by more than this (mean over R, G, B
    /// of the 3x3-blurred frames, 0..255): above camera noise, below a visitor's contrast.
    pub change_threshold: f64,
    /// Changed pixels are grown by this share of the painting's long edge, so the edge of a
    /// moving figure (and its painted brush strokes) is free to move as well.
    pub change_margin: f64,
    /// A changed pixel stays free of the temporal loss for this many frames after it last
    /// changed: a few frames' iterations are not enough to paint a visitor who just stopped
    /// (Ruder et al. paint every frame to convergence; a live mirror cannot).
    pub settle_frames: u32,
    /// A pixel that held still this many frames becomes part of the painted background plate
    /// (what a pixel a visitor leaves goes back to). Longer than a visitor usually stands
    /// still in one place, so the plate is the room, not the visitor.
    pub background_after_frames: u32,
    /// When more than this share of the picture changed (a light switched, a crowd walked
    /// in), the optimiser's memory is dropped: its curvature belongs to another picture.
    pub fresh_start_above: f64,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            iterations_per_frame: 6,
            keep: 0.5,
            temporal_weight: 2e3,
            change_threshold: 12.0,
            change_margin: 0.02,
            settle_frames: 3,
            background_after_frames: 30,
            fresh_start_above: 0.5,
        }
    }
}

impl LiveSettings {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(0.0..=1.0).contains(&self.keep) {
            return Err(Invalid::new("keep", format!("live.keep {} is outside 0..1", self.keep)));
        }
        if !(1..=10_000).contains(&self.iterations_per_frame) {
            return Err(Invalid::new(
                "iterations_per_frame",
                format!("live.iterations_per_frame {} is outside 1..10000", self.iterations_per_frame),
            ));
        }
        if !(self.temporal_weight >= 0.0 && self.temporal_weight.is_finite()) {
            return Err(Invalid::new(
                "temporal_weight",
                format!("live.temporal_weight {} must be 0 or more", self.temporal_weight),
            ));
        }
        if !(0.0..=255.0).contains(&self.change_threshold) {
            return Err(Invalid::new(
                "change_threshold",
                format!("live.change_threshold {} is outside 0..255", self.change_threshold),
            ));
        }
        if !(0.0..=0.5).contains(&self.change_margin) {
            return Err(Invalid::new(
                "change_margin",
                format!("live.change_margin {} is outside 0..0.5", self.change_margin),
            ));
        }
        if !(0.0..=1.0).contains(&self.fresh_start_above) {
            return Err(Invalid::new(
                "fresh_start_above",
                format!("live.fresh_start_above {} is outside 0..1", self.fresh_start_above),
            ));
        }
        Ok(())
    }
}

/// What the temporal term pulls towards: the previous painting (warped; here unmoved) and
/// where that warp is valid.
pub struct TemporalTarget {
    pub previous: Tensor,
    /// `[1, 1, H, W]`, 1 where the frame did not change, 0 where it did.
    pub mask: Tensor,
}

/// Ruder et al.'s short-term temporal loss `sum c * (x - w(prev))^2` (summed over pixels and
/// channels, the mask shared by the three channels).
pub fn temporal_loss(x: &Tensor, previous: &Tensor, mask: &Tensor) -> Tensor {
    ((x - previous).square() * mask).sum(Kind::Float)
}

/// 1 where the scene held still between two `[1, 3, H, W]` frames (0..255), 0 where it changed
/// by more than `threshold`, with changed areas grown by `margin_px` pixels on each side.
pub fn unchanged_mask(old: &Tensor, new: &Tensor, threshold: f64, margin_px: i64) -> Tensor {
    tch::no_grad(|| {
        // A 3x3 blur first: sensor noise on single pixels is not a visitor.
        let blur = |t: &Tensor| t.avg_pool2d([3, 3], [1, 1], [1, 1], false, false, None::<i64>);
        let diff = (blur(new) - blur(old)).abs().mean_dim(1, true, Kind::Float);
        let changed = diff.gt(threshold).to_kind(Kind::Float);
        let grown = if margin_px > 0 {
            let k = 2 * margin_px + 1;
            changed.max_pool2d([k, k], [1, 1], [margin_px, margin_px], [1, 1], false)
        } else {
            changed
        };
        1.0 - grown
    })
}

/// What the mirror remembers between frames, all at the painting's size: how long each
/// pixel has held still, and a painted background plate (the room as it was last painted
/// while nobody stood there), so a pixel a visitor leaves gets the painted room back at
/// once instead of a half-painted ghost of the photo.
pub struct LiveMemory {
    frames_since_change: Tensor,
    plate_frame: Tensor,
    plate_painting: Tensor,
}

/// One frame's carry-over, from [`LiveMemory::carry_over`].
pub struct CarryOver {
    /// Where the optimisation of the new frame starts.
    pub start: Tensor,
    pub temporal: TemporalTarget,
    /// Share of the picture that changed since the last frame (0..1).
    pub changed: f64,
}

impl LiveMemory {
    /// Memory for a painting that has settled on `frame` (everything has held still long ago).
    pub fn settled(frame: &Tensor, painting: &Tensor) -> LiveMemory {
        let s = frame.size();
        LiveMemory {
            frames_since_change: Tensor::full([1, 1, s[2], s[3]], 1e6, (Kind::Float, frame.device())),
            plate_frame: frame.copy(),
            plate_painting: painting.detach().copy(),
        }
    }

    pub fn matches(&self, frame: &Tensor) -> bool {
        self.plate_frame.size() == frame.size()
    }

    /// From the painting `previous` of frame `old` to the new frame `new`.
    pub fn carry_over(&mut self, old: &Tensor, new: &Tensor, previous: &Tensor, live: &LiveSettings) -> CarryOver {
        tch::no_grad(|| {
            let s = new.size();
            let margin = (live.change_margin * s[2].max(s[3]) as f64).round() as i64;
            // Pixels still for long on the old frame update the plate to that frame and its painting.
            let settled_before = settled_mask(&self.frames_since_change, live.background_after_frames);
            self.plate_frame = &self.plate_frame + (old - &self.plate_frame) * &settled_before;
            self.plate_painting = &self.plate_painting + (previous - &self.plate_painting) * &settled_before;
            let unchanged = unchanged_mask(old, new, live.change_threshold, margin);
            let changed = 1.0 - unchanged.mean(Kind::Float).double_value(&[]);
            self.frames_since_change = (&self.frames_since_change + 1.0) * &unchanged;
            // Changed pixels that look like the plate again (the visitor left them): the
            // painted room; the others (the visitor came): part painting, part photo.
            let like_plate = unchanged_mask(&self.plate_frame, new, live.change_threshold, 0);
            let towards = previous * live.keep + new * (1.0 - live.keep);
            let fresh = &towards + (&self.plate_painting - &towards) * &like_plate;
            let start = previous + (fresh - previous) * (1.0 - &unchanged);
            let hold = settled_mask(&self.frames_since_change, live.settle_frames);
            CarryOver { start, temporal: TemporalTarget { previous: previous.detach(), mask: hold }, changed }
        })
    }
}

/// Where the temporal loss holds the painting: pixels unchanged for at least `settle_frames`.
pub fn settled_mask(frames_since_change: &Tensor, settle_frames: u32) -> Tensor {
    frames_since_change.ge(settle_frames.max(1) as f64).to_kind(Kind::Float)
}
