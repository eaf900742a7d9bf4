//! Faces in the painting: a spatial gain on the content term (and optionally a relaxed style
//! term) inside the visitors' faces, after Selim, Elgharib & Doyle (SIGGRAPH 2016), who paint
//! head portraits with spatially varying gains. The gains are maps over each VGG layer's
//! grid: 1 outside the faces, `gain` inside a feathered ellipse around each face.
//!
//! - Content: `Lc = 1/2 * sum_ij W_j (F_ij - P_ij)^2`, W the content gain map.
//! - Style: the Gram of a layer is taken over the positions weighted by the style gain map S,
//!   `G = F diag(S) F^T / mean(S)`: the face counts less in the style statistics, and the
//!   rest of the picture carries them (the mean keeps G on the scale of the target).
//!
//! With both gains 1 no map is built at all: the objective is exactly the paper's.

use super::invalid::Invalid;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// A face in a picture, in fractions of the picture's width and height (so it maps onto any
/// size the painting is made at): the detector's box, top-left corner and size.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaceBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// The detector's confidence (SeetaFace: 2 and up is a face).
    pub score: f32,
}

impl FaceBox {
    /// The box in pixels of a `width` x `height` picture: (x, y, w, h).
    pub fn pixels(&self, width: u32, height: u32) -> (f32, f32, f32, f32) {
        let (w, h) = (width as f32, height as f32);
        (self.x * w, self.y * h, self.w * w, self.h * h)
    }
}

/// How the painting treats the faces found in the photo.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceWeights {
    /// Multiplies the content term inside faces: eyes, mouth and the face's shape stay where
    /// they are while the style still colours and strokes them. 1 = plain objective.
    pub content_gain: f64,
    /// Multiplies each face position's share of the style statistics (<= 1 relaxes the style
    /// there; 1 = plain objective).
    pub style_gain: f64,
    /// The ellipse's size relative to the detector's box (the box runs from brows to chin;
    /// the ellipse takes in forehead, cheeks and jaw).
    pub grow: f64,
    /// Width of the soft edge, as a share of the ellipse's radius: no seam at the face's rim.
    pub feather: f64,
}

impl Default for FaceWeights {
    fn default() -> Self {
        // Measured on the portraits of ../shared/testdata (docs/engine.md "Faces in the painting"): faces keep their
        // features while the rest of the picture is painted as before.
        FaceWeights { content_gain: 3.0, style_gain: 0.2, grow: 1.3, feather: 0.4 }
    }
}

impl FaceWeights {
    /// Gains of 1: the paper's objective, no map at all.
    pub fn is_plain(&self) -> bool {
        self.content_gain == 1.0 && self.style_gain == 1.0
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if !(self.content_gain.is_finite() && (0.0..=100.0).contains(&self.content_gain)) {
            return Err(Invalid::new(
                "content_gain",
                format!("faces.content_gain {} is outside 0..=100", self.content_gain),
            ));
        }
        // 0.05 at least: a face entirely out of the style statistics has no style at all.
        if !(self.style_gain.is_finite() && (0.05..=4.0).contains(&self.style_gain)) {
            return Err(Invalid::new(
                "style_gain",
                format!("faces.style_gain {} is outside 0.05..=4", self.style_gain),
            ));
        }
        if !(self.grow.is_finite() && (0.5..=4.0).contains(&self.grow)) {
            return Err(Invalid::new("grow", format!("faces.grow {} is outside 0.5..=4", self.grow)));
        }
        if !(self.feather.is_finite() && (0.0..=2.0).contains(&self.feather)) {
            return Err(Invalid::new("feather", format!("faces.feather {} is outside 0..=2", self.feather)));
        }
        Ok(())
    }
}

/// How much each cell of a `width` x `height` grid belongs to a face (0..1): 1 inside the
/// ellipse around a face, falling smoothly to 0 over `feather` of its radius. Row-major.
pub fn face_map(faces: &[FaceBox], width: usize, height: usize, weights: &FaceWeights) -> Vec<f32> {
    let mut map = vec![0.0f32; width * height];
    for f in faces {
        // The ellipse's centre sits a little above the box's: SeetaFace's box starts at the brows.
        let (cx, cy) = (f.x + f.w * 0.5, f.y + f.h * 0.45);
        let (rx, ry) = ((f.w * 0.5 * weights.grow as f32).max(1e-6), (f.h * 0.6 * weights.grow as f32).max(1e-6));
        let feather = weights.feather as f32;
        for (i, m) in map.iter_mut().enumerate() {
            let (gx, gy) = (i % width, i / width);
            // Centre of the cell, as a fraction of the grid.
            let (px, py) = ((gx as f32 + 0.5) / width as f32, (gy as f32 + 0.5) / height as f32);
            let d = (((px - cx) / rx).powi(2) + ((py - cy) / ry).powi(2)).sqrt();
            let v = if d <= 1.0 {
                1.0
            } else if feather <= 0.0 || d >= 1.0 + feather {
                0.0
            } else {
                let s = (d - 1.0) / feather;
                1.0 - s * s * (3.0 - 2.0 * s)
            };
            *m = m.max(v);
        }
    }
    map
}

/// `1 + (gain - 1) * map` as a `[1, 1, height, width]` tensor: the gain at each position.
pub fn gain_map(map: &[f32], width: usize, height: usize, gain: f64, device: Device) -> Tensor {
    let g: Vec<f32> = map.iter().map(|m| 1.0 + (gain as f32 - 1.0) * m).collect();
    Tensor::from_slice(&g).view([1, 1, height as i64, width as i64]).to_device(device)
}

/// The gain maps of one painting size, one per content layer and one per style layer, each on
/// its layer's grid. `None` where the gain is 1 (that term stays the plain one).
pub struct FaceMaps {
    pub content: Vec<Option<Tensor>>,
    pub style: Vec<Option<Tensor>>,
}

impl FaceMaps {
    /// `grids`: (width, height) of each content layer, then of each style layer.
    pub fn new(
        faces: &[FaceBox],
        weights: &FaceWeights,
        content_grids: &[(usize, usize)],
        style_grids: &[(usize, usize)],
        device: Device,
    ) -> FaceMaps {
        let maps = |grids: &[(usize, usize)], gain: f64| -> Vec<Option<Tensor>> {
            grids
                .iter()
                .map(|&(w, h)| (gain != 1.0).then(|| gain_map(&face_map(faces, w, h, weights), w, h, gain, device)))
                .collect()
        };
        FaceMaps { content: maps(content_grids, weights.content_gain), style: maps(style_grids, weights.style_gain) }
    }

    pub fn copy(&self) -> FaceMaps {
        let copy = |v: &[Option<Tensor>]| v.iter().map(|t| t.as_ref().map(Tensor::copy)).collect();
        FaceMaps { content: copy(&self.content), style: copy(&self.style) }
    }
}

/// `Lc = 1/2 * sum_ij W_j (F_ij - P_ij)^2`: the content loss with a gain per position
/// (`w`: `[1, 1, H, W]`, broadcast over the channels).
pub fn weighted_content_loss(f: &Tensor, p: &Tensor, w: &Tensor) -> Tensor {
    ((f - p).square() * w).sum(f.kind()) * 0.5
}

/// `G = F diag(S) F^T / mean(S)` of a `[1, N, H, W]` activation: the Gram over positions that
/// count `S` each (`s`: `[1, 1, H, W]`, positive).
pub fn weighted_gram(features: &Tensor, s: &Tensor) -> Tensor {
    let weighted = features * s.sqrt();
    super::loss::gram(&weighted.contiguous()) / s.mean(Kind::Float)
}
