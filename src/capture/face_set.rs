//! A face set with hand-checked boxes (assets/faces/detector-set.ron) and how a detector's
//! boxes score against it: recall, false faces, recall per kind of face. Read by
//! `gallery-bench compare-faces` and by the face tests.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Where a picture of the set lives.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub enum PictureOrigin {
    /// In this repository (relative to its root).
    Repo,
    /// Fetched by scripts/fetch-face-set.sh (relative to the cache).
    Cache,
    /// In ../shared/testdata.
    Shared,
}

/// A face as the set marks it: pixels of the picture, and what kind of face it is.
#[derive(Clone, Debug, Deserialize)]
pub struct MarkedFace {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Picture {
    pub file: PathBuf,
    pub from: PictureOrigin,
    /// Package, version and licence it came from.
    pub source: String,
    pub faces: Vec<MarkedFace>,
}

#[derive(Debug, Deserialize)]
pub struct FaceSet {
    pub pictures: Vec<Picture>,
}

impl FaceSet {
    pub fn load(path: &Path) -> anyhow::Result<FaceSet> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        ron::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: {}\n  fix: correct the face set there",
                path.display(),
                e.span.start.line,
                e.span.start.col,
                e.code
            )
        })
    }
}

/// Intersection over union of two boxes given as (x, y, w, h).
pub fn iou(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> f32 {
    let iw = ((a.0 + a.2).min(b.0 + b.2) - a.0.max(b.0)).max(0.0);
    let ih = ((a.1 + a.3).min(b.1 + b.3) - a.1.max(b.1)).max(0.0);
    let inter = iw * ih;
    let union = a.2 * a.3 + b.2 * b.3 - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The detectors draw different boxes around the same face (SeetaFace: brows to mouth;
/// MTCNN: forehead to chin), so a face counts as found at an overlap of 0.3.
pub const MATCH_IOU: f32 = 0.3;

/// Which marked faces were found, and how many boxes found none: each detection pairs with
/// at most one marked face, best overlap first.
pub fn score(marked: &[MarkedFace], found: &[(f32, f32, f32, f32)]) -> (Vec<bool>, usize) {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (i, m) in marked.iter().enumerate() {
        for (j, f) in found.iter().enumerate() {
            let o = iou((m.x, m.y, m.w, m.h), *f);
            if o >= MATCH_IOU {
                pairs.push((o, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut hit, mut used) = (vec![false; marked.len()], vec![false; found.len()]);
    for (_, i, j) in pairs {
        if !hit[i] && !used[j] {
            hit[i] = true;
            used[j] = true;
        }
    }
    (hit, used.iter().filter(|u| !**u).count())
}

/// One detector's results over the set.
#[derive(Default)]
pub struct Tally {
    pub faces: usize,
    pub found: usize,
    pub false_faces: usize,
    /// Per tag: (faces, found).
    pub by_tag: std::collections::BTreeMap<String, (usize, usize)>,
    pub ms: Vec<f64>,
}

impl Tally {
    /// One picture `width` px wide: its faces are also counted by size.
    pub fn add(&mut self, marked: &[MarkedFace], hit: &[bool], false_faces: usize, width: u32) {
        self.faces += marked.len();
        self.found += hit.iter().filter(|h| **h).count();
        self.false_faces += false_faces;
        for (m, h) in marked.iter().zip(hit) {
            let share = m.w / width as f32;
            let size = if share < 0.12 {
                "small (under 12 % of the width)"
            } else if share > 0.3 {
                "large (over 30 % of the width)"
            } else {
                "medium (12-30 % of the width)"
            };
            for t in m.tags.iter().map(String::as_str).chain([size]) {
                let e = self.by_tag.entry(t.to_string()).or_default();
                e.0 += 1;
                e.1 += *h as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(x: f32, y: f32, w: f32, h: f32) -> MarkedFace {
        MarkedFace { x, y, w, h, tags: vec!["t".into()] }
    }

    #[test]
    fn iou_of_boxes_by_hand() {
        assert_eq!(iou((0.0, 0.0, 10.0, 10.0), (0.0, 0.0, 10.0, 10.0)), 1.0);
        // 5x10 shared of 100 + 100 - 50.
        assert!((iou((0.0, 0.0, 10.0, 10.0), (5.0, 0.0, 10.0, 10.0)) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(iou((0.0, 0.0, 10.0, 10.0), (20.0, 20.0, 5.0, 5.0)), 0.0);
    }

    #[test]
    fn each_detection_finds_at_most_one_face_and_the_rest_are_false() {
        let faces = [marked(0.0, 0.0, 10.0, 10.0), marked(100.0, 0.0, 10.0, 10.0), marked(200.0, 0.0, 10.0, 10.0)];
        // One box on the first face, two on the second (one is false), one on nothing.
        let found =
            [(1.0, 1.0, 10.0, 10.0), (100.0, 0.0, 10.0, 10.0), (101.0, 1.0, 9.0, 9.0), (400.0, 0.0, 10.0, 10.0)];
        let (hit, false_faces) = score(&faces, &found);
        assert_eq!(hit, vec![true, true, false]);
        assert_eq!(false_faces, 2);
        let mut t = Tally::default();
        t.add(&faces, &hit, false_faces, 100);
        assert_eq!((t.faces, t.found, t.false_faces, t.by_tag["t"]), (3, 2, 2, (3, 2)));
        // 10 px of 100: small.
        assert_eq!(t.by_tag["small (under 12 % of the width)"], (3, 2));
    }
}
