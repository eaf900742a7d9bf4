//! An independent check of the loss the engine reports: the same number computed here in
//! plain Rust loops, with no tch and none of the engine's code, from the safetensors file
//! and the method as the paper and the weights' metadata state it:
//!
//! - input: RGB 0..255 -> BGR, minus the Caffe mean (103.939, 116.779, 123.68);
//! - conv1_1 + ReLU, conv1_2 + ReLU (3x3, padding 1) with the real VGG16 weights;
//! - Lc = 1/2 sum (F - P)^2 at relu1_2;
//! - Gram G = F F^T; a style image of another size has its Gram scaled by M_painting / M_style,
//!   two styles blend their Grams by normalised weights;
//!   E_l = 1/(4 N^2 M^2) sum (G - A)^2; Ls = sum_l w_l E_l over relu1_1 and relu1_2;
//! - TV = sum over channels and i < H-1, j < W-1 of sqrt(dy^2 + dx^2 + 1e-8);
//! - total = alpha Lc + beta (W H / 256^2) Ls + lambda TV (size-invariant beta).
//!
//! The engine's first Adam step evaluates the objective at its random start, which is
//! reproducible from the seed.

use crate::common;

use std::sync::Arc;

use gallery_painter::engine::optim::OptimizerKind;
use gallery_painter::engine::refiner::seeded_noise;
use gallery_painter::engine::{InitKind, LayerWeight, Refiner, StyleImage, StyleParams};
use image::{Rgb, RgbImage};
use safetensors::SafeTensors;

/// A [C, H, W] image in f64.
struct Planes {
    c: usize,
    h: usize,
    w: usize,
    v: Vec<f64>,
}

impl Planes {
    fn at(&self, c: usize, y: usize, x: usize) -> f64 {
        self.v[(c * self.h + y) * self.w + x]
    }
}

struct Conv {
    out: usize,
    inp: usize,
    w: Vec<f32>,
    b: Vec<f32>,
}

fn load_conv(st: &SafeTensors, index: usize) -> Conv {
    let f32s = |name: String| -> (Vec<f32>, Vec<usize>) {
        let t = st.tensor(&name).unwrap();
        let v = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        (v, t.shape().to_vec())
    };
    let (w, shape) = f32s(format!("features.{index}.weight"));
    let (b, _) = f32s(format!("features.{index}.bias"));
    assert_eq!(&shape[2..], &[3, 3]);
    Conv { out: shape[0], inp: shape[1], w, b }
}

/// 3x3 convolution, zero padding 1, then ReLU.
fn conv_relu(x: &Planes, k: &Conv) -> Planes {
    assert_eq!(x.c, k.inp);
    let (h, w) = (x.h, x.w);
    let mut v = vec![0.0; k.out * h * w];
    for o in 0..k.out {
        for y in 0..h {
            for xx in 0..w {
                let mut s = k.b[o] as f64;
                for i in 0..k.inp {
                    for dy in 0..3 {
                        for dx in 0..3 {
                            let (yy, xs) = (y as i64 + dy as i64 - 1, xx as i64 + dx as i64 - 1);
                            if yy < 0 || xs < 0 || yy >= h as i64 || xs >= w as i64 {
                                continue;
                            }
                            let wt = k.w[((o * k.inp + i) * 3 + dy) * 3 + dx] as f64;
                            s += wt * x.at(i, yy as usize, xs as usize);
                        }
                    }
                }
                v[(o * h + y) * w + xx] = s.max(0.0);
            }
        }
    }
    Planes { c: k.out, h, w, v }
}

/// The Caffe input convention, from the metadata's own words.
fn caffe_input(rgb: &Planes) -> Planes {
    let mean_bgr = [103.939, 116.779, 123.68];
    let mut v = vec![0.0; 3 * rgb.h * rgb.w];
    for c in 0..3 {
        for y in 0..rgb.h {
            for x in 0..rgb.w {
                v[(c * rgb.h + y) * rgb.w + x] = rgb.at(2 - c, y, x) - mean_bgr[c];
            }
        }
    }
    Planes { c: 3, h: rgb.h, w: rgb.w, v }
}

fn planes(img: &RgbImage) -> Planes {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut v = vec![0.0; 3 * h * w];
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            v[(c * h + y as usize) * w + x as usize] = p[c] as f64;
        }
    }
    Planes { c: 3, h, w, v }
}

fn gram(f: &Planes) -> Vec<f64> {
    let m = f.h * f.w;
    let mut g = vec![0.0; f.c * f.c];
    for a in 0..f.c {
        for b in a..f.c {
            let s: f64 = (0..m).map(|k| f.v[a * m + k] * f.v[b * m + k]).sum();
            g[a * f.c + b] = s;
            g[b * f.c + a] = s;
        }
    }
    g
}

/// relu1_1 and relu1_2 of an RGB image.
fn features(img: &Planes, c11: &Conv, c12: &Conv) -> (Planes, Planes) {
    let r11 = conv_relu(&caffe_input(img), c11);
    let r12 = conv_relu(&r11, c12);
    (r11, r12)
}

fn pattern(w: u32, h: u32, k: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            ((x * 37 + y * 11 * k) % 256) as u8,
            ((x * x * k + 7 * y) % 256) as u8,
            ((3 * x + y * y + 50 * k) % 256) as u8,
        ])
    })
}

#[test]
fn the_engine_reports_the_loss_computed_by_hand_from_the_weights_file() {
    let bytes = std::fs::read(common::weights()).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (c11, c12) = (load_conv(&st, 0), load_conv(&st, 2));

    // The painting is 32x24 (content at that size: no resampling). The styles have other
    // sizes with the same long edge (style_scale 1), so their Grams must be rescaled.
    let (w, h) = (32usize, 24usize);
    let content = pattern(32, 24, 1);
    let style_a = pattern(32, 20, 2);
    let style_b = pattern(18, 32, 3);
    let (alpha, beta, lambda, seed) = (1.3, 700.0, 0.02, 9u64);
    let (wa, wb) = (0.7, 0.3);
    let (w11, w12) = (0.6, 0.4);

    let params = StyleParams {
        size: 32,
        levels: 1,
        iterations: 1,
        content_layers: vec![LayerWeight("relu1_2".into(), 1.0)],
        style_layers: vec![LayerWeight("relu1_1".into(), w11), LayerWeight("relu1_2".into(), w12)],
        content_weight: alpha,
        style_weight: beta,
        tv_weight: lambda,
        size_invariant_weights: true,
        init: InitKind::Random,
        seed,
        optimizer: OptimizerKind::Adam { lr: 1.0 },
        ..StyleParams::default()
    };
    let mut painter = Refiner::new(common::vgg(), common::cpu(), params).unwrap();
    painter.set_content(content.clone());
    painter
        .set_styles(vec![
            StyleImage { id: "a".into(), image: Arc::new(style_a.clone()), weight: wa },
            StyleImage { id: "b".into(), image: Arc::new(style_b.clone()), weight: wb },
        ])
        .unwrap();
    painter.restart(None).unwrap();
    let engine = painter.step().unwrap().losses;

    // By hand. The start: seeded noise in [C, H, W] order.
    let x = Planes { c: 3, h, w, v: seeded_noise(seed, 3 * h * w).into_iter().map(f64::from).collect() };
    let (x11, x12) = features(&x, &c11, &c12);
    let (_, p12) = features(&planes(&content), &c11, &c12);
    let lc = 0.5 * x12.v.iter().zip(&p12.v).map(|(f, p)| (f - p).powi(2)).sum::<f64>();

    let m = (h * w) as f64;
    let mut targets = [vec![0.0; 64 * 64], vec![0.0; 64 * 64]];
    for (img, weight) in [(&style_a, wa), (&style_b, wb)] {
        let (s11, s12) = features(&planes(img), &c11, &c12);
        let m_style = (img.width() * img.height()) as f64;
        for (target, f) in targets.iter_mut().zip([&s11, &s12]) {
            for (t, g) in target.iter_mut().zip(gram(f)) {
                *t += g * (m / m_style) * weight / (wa + wb);
            }
        }
    }
    let e = |f: &Planes, a: &[f64]| {
        let n = f.c as f64;
        gram(f).iter().zip(a).map(|(g, a)| (g - a).powi(2)).sum::<f64>() / (4.0 * n * n * m * m)
    };
    let ls = w11 * e(&x11, &targets[0]) + w12 * e(&x12, &targets[1]);

    let mut tv = 0.0;
    for c in 0..3 {
        for i in 0..h - 1 {
            for j in 0..w - 1 {
                let (dy, dx) = (x.at(c, i + 1, j) - x.at(c, i, j), x.at(c, i, j + 1) - x.at(c, i, j));
                tv += (dy * dy + dx * dx + 1e-8).sqrt();
            }
        }
    }
    let total = alpha * lc + beta * (m / 65536.0) * ls + lambda * tv;

    let mut report = String::new();
    let mut ok = true;
    for (what, engine, hand) in [
        ("content loss", engine.content, lc),
        ("style loss", engine.style, ls),
        ("total variation", engine.tv, tv),
        ("total", engine.total, total),
    ] {
        let rel = (engine - hand).abs() / hand.abs().max(1e-12);
        // Float32 on the engine side agrees to ~1e-7 here; 1e-5 leaves room for summation order.
        ok &= rel < 1e-5;
        report += &format!("{what}: engine {engine:.6e}, by hand {hand:.6e} (relative error {rel:.1e})\n");
    }
    eprintln!("{report}");
    assert!(ok, "{report}");
}

/// `G = F diag(S) F^T / mean(S)`.
fn weighted_gram(f: &Planes, s: &[f64]) -> Vec<f64> {
    let m = f.h * f.w;
    let mean = s.iter().sum::<f64>() / m as f64;
    let mut g = vec![0.0; f.c * f.c];
    for a in 0..f.c {
        for b in a..f.c {
            let v: f64 = (0..m).map(|k| s[k] * f.v[a * m + k] * f.v[b * m + k]).sum::<f64>() / mean;
            g[a * f.c + b] = v;
            g[b * f.c + a] = v;
        }
    }
    g
}

#[test]
fn the_face_aware_objective_is_the_weighted_form_computed_by_hand() {
    use gallery_painter::engine::faces::face_map;
    use gallery_painter::engine::{FaceBox, FaceWeights};

    let bytes = std::fs::read(common::weights()).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (c11, c12) = (load_conv(&st, 0), load_conv(&st, 2));
    let (w, h) = (32usize, 24usize);
    let content = pattern(32, 24, 1);
    let style = pattern(32, 24, 2);
    let (alpha, beta, lambda, seed) = (1.3, 700.0, 0.02, 9u64);
    let faces = [FaceBox { x: 0.3, y: 0.2, w: 0.3, h: 0.4, score: 5.0 }];
    let weights = FaceWeights { content_gain: 5.0, style_gain: 0.4, grow: 1.2, feather: 0.6 };
    let params = StyleParams {
        size: 32,
        levels: 1,
        iterations: 1,
        content_layers: vec![LayerWeight("relu1_2".into(), 1.0)],
        style_layers: vec![LayerWeight("relu1_1".into(), 1.0)],
        content_weight: alpha,
        style_weight: beta,
        tv_weight: lambda,
        init: InitKind::Random,
        seed,
        optimizer: OptimizerKind::Adam { lr: 1.0 },
        faces: weights,
        ..StyleParams::default()
    };
    let mut painter = Refiner::new(common::vgg(), common::cpu(), params).unwrap();
    painter.set_content(content.clone());
    painter.set_faces(faces.to_vec());
    painter.set_styles(vec![StyleImage { id: "s".into(), image: Arc::new(style.clone()), weight: 1.0 }]).unwrap();
    painter.restart(None).unwrap();
    let engine = painter.step().unwrap().losses;

    // relu1_x has the painting's own grid: the map at 32x24.
    let map = face_map(&faces, w, h, &weights);
    assert!(map.contains(&1.0) && map.contains(&0.0), "the face covers part of the grid");
    let gain = |g: f64| -> Vec<f64> { map.iter().map(|m| 1.0 + (g - 1.0) * *m as f64).collect() };
    let (wc, ws) = (gain(weights.content_gain), gain(weights.style_gain));

    let x = Planes { c: 3, h, w, v: seeded_noise(seed, 3 * h * w).into_iter().map(f64::from).collect() };
    let (x11, x12) = features(&x, &c11, &c12);
    let (_, p12) = features(&planes(&content), &c11, &c12);
    let m = h * w;
    let lc = 0.5 * (0..x12.v.len()).map(|i| wc[i % m] * (x12.v[i] - p12.v[i]).powi(2)).sum::<f64>();
    let (s11, _) = features(&planes(&style), &c11, &c12);
    let n = x11.c as f64;
    let mf = m as f64;
    let ls = weighted_gram(&x11, &ws).iter().zip(gram(&s11)).map(|(g, a)| (g - a).powi(2)).sum::<f64>()
        / (4.0 * n * n * mf * mf);
    let rel = |engine: f64, hand: f64| (engine - hand).abs() / hand.abs().max(1e-12);
    let report = format!(
        "weighted content: engine {:.6e}, by hand {lc:.6e}\nweighted style: engine {:.6e}, by hand {ls:.6e}",
        engine.content, engine.style
    );
    eprintln!("{report}");
    assert!(rel(engine.content, lc) < 1e-5 && rel(engine.style, ls) < 1e-5, "{report}");
}
