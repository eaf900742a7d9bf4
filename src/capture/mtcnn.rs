//! MTCNN (Zhang et al. 2016, "Joint Face Detection and Alignment using Multi-task Cascaded
//! Convolutional Networks"): three small CNNs in a cascade. P-Net proposes 12 px windows over
//! an image pyramid, R-Net checks each proposal at 24 px, O-Net at 48 px; each stage also
//! refines the box. The weights are facenet-pytorch's conversion of the authors' (MIT),
//! turned into safetensors by scripts/convert_mtcnn.py; the cascade below follows
//! facenet-pytorch's `detect_face` step by step, run through tch on the CPU.

use std::sync::Arc;

use image::RgbImage;
use tch::{Device, Kind, Tensor};

/// The authors' thresholds for P-, R- and O-Net, and the pyramid's step.
pub const THRESHOLDS: [f32; 3] = [0.6, 0.7, 0.7];
const PYRAMID_FACTOR: f64 = 0.709;

/// One face in pixels of the image looked at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    /// O-Net's face probability.
    pub score: f32,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    b: Found,
    /// The net's box correction, as shares of the box's size.
    reg: [f32; 4],
}

/// One tensor as read from the file: name, shape, values.
type NamedValues = (String, Vec<i64>, Vec<f32>);

/// The weights as read from the file, shareable between threads (a `Tensor` is not `Sync`).
#[derive(Clone)]
pub struct MtcnnWeights(Arc<Vec<NamedValues>>);

impl MtcnnWeights {
    pub fn from_safetensors(bytes: &[u8]) -> Result<MtcnnWeights, String> {
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let mut all = Vec::new();
        for (name, view) in st.tensors() {
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(format!("{name} is {:?}, not f32", view.dtype()));
            }
            let values: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            all.push((name, view.shape().iter().map(|&d| d as i64).collect(), values));
        }
        let w = MtcnnWeights(Arc::new(all));
        // Fails here, at load, rather than in the capture thread.
        Mtcnn::new(&w)?;
        Ok(w)
    }
}

struct Net(std::collections::HashMap<String, Tensor>);

impl Net {
    fn get(&self, name: &str) -> &Tensor {
        &self.0[name]
    }
    fn conv(&self, x: &Tensor, layer: &str) -> Tensor {
        x.conv2d(
            self.get(&format!("{layer}.weight")),
            Some(self.get(&format!("{layer}.bias"))),
            [1, 1],
            [0, 0],
            [1, 1],
            1,
        )
    }
    fn dense(&self, x: &Tensor, layer: &str) -> Tensor {
        x.linear(self.get(&format!("{layer}.weight")), Some(self.get(&format!("{layer}.bias"))))
    }
    fn prelu(&self, x: &Tensor, layer: &str) -> Tensor {
        x.prelu(self.get(&format!("{layer}.weight")))
    }
}

fn pool(x: &Tensor, k: i64, s: i64) -> Tensor {
    x.max_pool2d([k, k], [s, s], [0, 0], [1, 1], true)
}

/// The dense layers of R- and O-Net were trained on (N, W, H, C) order (the Caffe original).
fn flatten_caffe(x: &Tensor) -> Tensor {
    let n = x.size()[0];
    x.permute([0, 3, 2, 1]).contiguous().view([n, -1])
}

pub struct Mtcnn {
    pnet: Net,
    rnet: Net,
    onet: Net,
}

const EXPECTED: [(&str, &[i64]); 3] =
    [("pnet.conv1.weight", &[10, 3, 3, 3]), ("rnet.dense4.weight", &[128, 576]), ("onet.dense5.weight", &[256, 1152])];

impl Mtcnn {
    pub fn new(weights: &MtcnnWeights) -> Result<Mtcnn, String> {
        for (name, shape) in EXPECTED {
            match weights.0.iter().find(|(n, _, _)| n == name) {
                Some((_, s, _)) if s.as_slice() == shape => {}
                Some((_, s, _)) => return Err(format!("{name} has shape {s:?}, expected {shape:?}")),
                None => return Err(format!("{name} is missing: not MTCNN's weights")),
            }
        }
        let mut nets: [std::collections::HashMap<String, Tensor>; 3] = Default::default();
        for (name, shape, values) in weights.0.iter() {
            let (net, layer) = name.split_once('.').ok_or_else(|| format!("unexpected tensor {name}"))?;
            let i = ["pnet", "rnet", "onet"]
                .iter()
                .position(|n| *n == net)
                .ok_or_else(|| format!("unexpected tensor {name}"))?;
            nets[i].insert(layer.to_string(), Tensor::from_slice(values).view(shape.as_slice()));
        }
        let [p, r, o] = nets;
        let m = Mtcnn { pnet: Net(p), rnet: Net(r), onet: Net(o) };
        // Every layer the forward passes name must be there.
        let probe = Tensor::zeros([1, 3, 48, 48], (Kind::Float, Device::Cpu));
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tch::no_grad(|| {
                let _ = m.p_net(&probe);
                let _ = m.r_net(&probe.adaptive_avg_pool2d([24, 24]));
                let _ = m.o_net(&probe);
            })
        }))
        .map_err(|_| "a layer is missing or has the wrong shape".to_string())?;
        Ok(m)
    }

    /// (box regression (N,4,h,w), face probability (N,h,w)).
    fn p_net(&self, x: &Tensor) -> (Tensor, Tensor) {
        let n = &self.pnet;
        let x = pool(&n.prelu(&n.conv(x, "conv1"), "prelu1"), 2, 2);
        let x = n.prelu(&n.conv(&x, "conv2"), "prelu2");
        let x = n.prelu(&n.conv(&x, "conv3"), "prelu3");
        let prob = n.conv(&x, "conv4_1").softmax(1, Kind::Float).select(1, 1);
        (n.conv(&x, "conv4_2"), prob)
    }

    /// (box regression (N,4), face probability (N)).
    fn r_net(&self, x: &Tensor) -> (Tensor, Tensor) {
        let n = &self.rnet;
        let x = pool(&n.prelu(&n.conv(x, "conv1"), "prelu1"), 3, 2);
        let x = pool(&n.prelu(&n.conv(&x, "conv2"), "prelu2"), 3, 2);
        let x = n.prelu(&n.conv(&x, "conv3"), "prelu3");
        let x = n.prelu(&n.dense(&flatten_caffe(&x), "dense4"), "prelu4");
        (n.dense(&x, "dense5_2"), n.dense(&x, "dense5_1").softmax(1, Kind::Float).select(1, 1))
    }

    fn o_net(&self, x: &Tensor) -> (Tensor, Tensor) {
        let n = &self.onet;
        let x = pool(&n.prelu(&n.conv(x, "conv1"), "prelu1"), 3, 2);
        let x = pool(&n.prelu(&n.conv(&x, "conv2"), "prelu2"), 3, 2);
        let x = pool(&n.prelu(&n.conv(&x, "conv3"), "prelu3"), 2, 2);
        let x = n.prelu(&n.conv(&x, "conv4"), "prelu4");
        let x = n.prelu(&n.dense(&flatten_caffe(&x), "dense5"), "prelu5");
        (n.dense(&x, "dense6_2"), n.dense(&x, "dense6_1").softmax(1, Kind::Float).select(1, 1))
    }

    /// The faces in `img` at least `min_face` px wide, best first.
    pub fn detect(&self, img: &RgbImage, min_face: f32) -> Vec<Found> {
        tch::no_grad(|| self.cascade(img, min_face.max(12.0) as f64))
    }

    fn cascade(&self, img: &RgbImage, min_face: f64) -> Vec<Found> {
        let (w, h) = (img.width() as i64, img.height() as i64);
        let t = Tensor::from_slice(img.as_raw()).view([h, w, 3]).permute([2, 0, 1]).unsqueeze(0).to_kind(Kind::Float);

        // Stage 1: P-Net over the pyramid, from `min_face` up to the whole image.
        let m = 12.0 / min_face;
        let mut scales = Vec::new();
        let (mut scale, mut minl) = (m, h.min(w) as f64 * m);
        while minl >= 12.0 {
            scales.push(scale);
            scale *= PYRAMID_FACTOR;
            minl *= PYRAMID_FACTOR;
        }
        let mut proposals = Vec::new();
        for scale in scales {
            let (hs, ws) = ((h as f64 * scale + 1.0) as i64, (w as f64 * scale + 1.0) as i64);
            let (reg, prob) = self.p_net(&normalise(&t.adaptive_avg_pool2d([hs, ws])));
            let at_scale = proposals_at(&reg, &prob, scale);
            proposals.extend(nms(at_scale, 0.5, Overlap::Union));
        }
        let proposals = nms(proposals, 0.7, Overlap::Union);
        // P-Net's correction is relative to the box's size without the +1 of later stages.
        let boxes: Vec<Found> = proposals
            .iter()
            .map(|c| {
                let (bw, bh) = (c.b.x2 - c.b.x1, c.b.y2 - c.b.y1);
                square(Found {
                    x1: c.b.x1 + c.reg[0] * bw,
                    y1: c.b.y1 + c.reg[1] * bh,
                    x2: c.b.x2 + c.reg[2] * bw,
                    y2: c.b.y2 + c.reg[3] * bh,
                    score: c.b.score,
                })
            })
            .collect();

        // Stage 2: R-Net on 24 px crops.
        let checked = self.refine(&t, &boxes, 24, THRESHOLDS[1], |x| self.r_net(x));
        let boxes: Vec<Found> = nms(checked, 0.7, Overlap::Union).into_iter().map(|c| square(corrected(c))).collect();

        // Stage 3: O-Net on 48 px crops; overlaps are judged against the smaller box.
        let checked = self.refine(&t, &boxes, 48, THRESHOLDS[2], |x| self.o_net(x));
        let corrected: Vec<Candidate> =
            checked.into_iter().map(|c| Candidate { b: corrected(c), reg: [0.0; 4] }).collect();
        nms(corrected, 0.7, Overlap::Min).into_iter().map(|c| c.b).collect()
    }

    /// Crops each box (clipped to the image) at `size` px, runs `net`, keeps those above `threshold`.
    fn refine(
        &self,
        t: &Tensor,
        boxes: &[Found],
        size: i64,
        threshold: f32,
        net: impl Fn(&Tensor) -> (Tensor, Tensor),
    ) -> Vec<Candidate> {
        let (h, w) = (t.size()[2], t.size()[3]);
        let mut kept = Vec::new();
        let mut crops = Vec::new();
        for b in boxes {
            // facenet-pytorch's `pad`: truncated, 1-based, clipped.
            let x = (b.x1.trunc() as i64).max(1);
            let y = (b.y1.trunc() as i64).max(1);
            let ex = (b.x2.trunc() as i64).min(w);
            let ey = (b.y2.trunc() as i64).min(h);
            if ex > x - 1 && ey > y - 1 {
                crops.push(
                    t.narrow(2, y - 1, ey - y + 1).narrow(3, x - 1, ex - x + 1).adaptive_avg_pool2d([size, size]),
                );
                kept.push(*b);
            }
        }
        if crops.is_empty() {
            return Vec::new();
        }
        let (reg, prob) = net(&normalise(&Tensor::cat(&crops, 0)));
        let reg = Vec::<f32>::try_from(reg.contiguous().view([-1])).unwrap_or_default();
        let prob = Vec::<f32>::try_from(prob.contiguous()).unwrap_or_default();
        kept.iter()
            .zip(prob.iter())
            .enumerate()
            .filter(|(_, (_, p))| **p > threshold)
            .map(|(i, (b, p))| Candidate {
                b: Found { score: *p, ..*b },
                reg: [reg[4 * i], reg[4 * i + 1], reg[4 * i + 2], reg[4 * i + 3]],
            })
            .collect()
    }
}

fn normalise(x: &Tensor) -> Tensor {
    (x - 127.5) * 0.0078125
}

/// P-Net's cells above the threshold, as 12 px windows in the image's pixels.
fn proposals_at(reg: &Tensor, prob: &Tensor, scale: f64) -> Vec<Candidate> {
    let (ph, pw) = (prob.size()[1], prob.size()[2]);
    let prob = Vec::<f32>::try_from(prob.contiguous().view([-1])).unwrap_or_default();
    let reg = Vec::<f32>::try_from(reg.contiguous().view([-1])).unwrap_or_default();
    let plane = (ph * pw) as usize;
    let mut out = Vec::new();
    for (i, &p) in prob.iter().enumerate() {
        if p < THRESHOLDS[0] {
            continue;
        }
        let (y, x) = ((i / pw as usize) as f64, (i % pw as usize) as f64);
        // Stride 2, cell 12.
        let q1 = |v: f64| ((2.0 * v + 1.0) / scale).floor() as f32;
        let q2 = |v: f64| ((2.0 * v + 12.0) / scale).floor() as f32;
        out.push(Candidate {
            b: Found { x1: q1(x), y1: q1(y), x2: q2(x), y2: q2(y), score: p },
            reg: [reg[i], reg[plane + i], reg[2 * plane + i], reg[3 * plane + i]],
        });
    }
    out
}

/// R- and O-Net's correction, relative to the box's size (+1: pixel-inclusive).
fn corrected(c: Candidate) -> Found {
    let (bw, bh) = (c.b.x2 - c.b.x1 + 1.0, c.b.y2 - c.b.y1 + 1.0);
    Found {
        x1: c.b.x1 + c.reg[0] * bw,
        y1: c.b.y1 + c.reg[1] * bh,
        x2: c.b.x2 + c.reg[2] * bw,
        y2: c.b.y2 + c.reg[3] * bh,
        score: c.b.score,
    }
}

/// The square around a box's centre with its longer side (the nets were trained on squares).
fn square(b: Found) -> Found {
    let (w, h) = (b.x2 - b.x1, b.y2 - b.y1);
    let l = w.max(h);
    let x1 = b.x1 + w * 0.5 - l * 0.5;
    let y1 = b.y1 + h * 0.5 - l * 0.5;
    Found { x1, y1, x2: x1 + l, y2: y1 + l, score: b.score }
}

#[derive(Clone, Copy, PartialEq)]
enum Overlap {
    /// Intersection over union (torchvision's `nms`, areas without +1).
    Union,
    /// Intersection over the smaller box (the authors' last stage, areas with +1).
    Min,
}

/// Greedy non-maximum suppression: best first, dropping those overlapping a kept one by more than `limit`.
fn nms(mut c: Vec<Candidate>, limit: f32, how: Overlap) -> Vec<Candidate> {
    c.sort_by(|a, b| b.b.score.total_cmp(&a.b.score));
    let one = if how == Overlap::Min { 1.0 } else { 0.0 };
    let area = |b: &Found| (b.x2 - b.x1 + one) * (b.y2 - b.y1 + one);
    let mut kept: Vec<Candidate> = Vec::new();
    for cand in c {
        let b = &cand.b;
        let overlaps = kept.iter().any(|k| {
            let k = &k.b;
            let iw = (b.x2.min(k.x2) - b.x1.max(k.x1) + one).max(0.0);
            let ih = (b.y2.min(k.y2) - b.y1.max(k.y1) + one).max(0.0);
            let inter = iw * ih;
            let o = match how {
                Overlap::Union => inter / (area(b) + area(k) - inter),
                Overlap::Min => inter / area(b).min(area(k)),
            };
            o > limit
        });
        if !overlaps {
            kept.push(cand);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Candidate {
        Candidate { b: Found { x1, y1, x2, y2, score }, reg: [0.0; 4] }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_the_separate_ones() {
        let kept = nms(
            vec![cand(0.0, 0.0, 10.0, 10.0, 0.8), cand(1.0, 1.0, 11.0, 11.0, 0.9), cand(50.0, 50.0, 60.0, 60.0, 0.7)],
            0.5,
            Overlap::Union,
        );
        let scores: Vec<f32> = kept.iter().map(|c| c.b.score).collect();
        // IoU of the first two: 81 / (100 + 100 - 81) = 0.68 > 0.5.
        assert_eq!(scores, vec![0.9, 0.7]);
    }

    #[test]
    fn min_overlap_drops_a_box_inside_a_larger_one() {
        // A 5x5 box inside a 20x20 one: IoU 0.06 keeps both, overlap over the smaller 1.0 drops it.
        let boxes = vec![cand(0.0, 0.0, 19.0, 19.0, 0.9), cand(5.0, 5.0, 9.0, 9.0, 0.8)];
        assert_eq!(nms(boxes.clone(), 0.7, Overlap::Union).len(), 2);
        assert_eq!(nms(boxes, 0.7, Overlap::Min).len(), 1);
    }

    #[test]
    fn square_keeps_the_centre_and_takes_the_longer_side() {
        let s = square(Found { x1: 10.0, y1: 20.0, x2: 30.0, y2: 60.0, score: 1.0 });
        assert_eq!((s.x1, s.y1, s.x2, s.y2), (0.0, 20.0, 40.0, 60.0));
    }

    #[test]
    fn proposals_map_cells_to_12_px_windows_of_the_image() {
        // One cell at (row 1, column 2) above the threshold, at scale 0.5.
        let mut p = vec![0.0f32; 3 * 4];
        p[4 + 2] = 0.9;
        let prob = Tensor::from_slice(&p).view([1, 3, 4]);
        let reg = Tensor::zeros([1, 4, 3, 4], (Kind::Float, Device::Cpu));
        let c = proposals_at(&reg, &prob, 0.5);
        assert_eq!(c.len(), 1);
        // x: (2*2+1)/0.5 = 10, (2*2+12)/0.5 = 32; y: (2+1)/0.5 = 6, (2+12)/0.5 = 28.
        assert_eq!((c[0].b.x1, c[0].b.x2, c[0].b.y1, c[0].b.y2), (10.0, 32.0, 6.0, 28.0));
    }
}
