//! The three terms of Gatys et al. (2015), each exactly as the paper writes it.

use tch::{Kind, Tensor};

use super::faces::{weighted_content_loss, weighted_gram};
use super::live::temporal_loss;
use super::optim::Evaluation;
use super::targets::{LayerPlan, Targets};
use super::vgg::Vgg;

/// `Lc = 1/2 * sum_ij (F_ij - P_ij)^2` between generated features `f` and content features `p`.
pub fn content_loss(f: &Tensor, p: &Tensor) -> Tensor {
    (f - p).square().sum(f.kind()) * 0.5
}

/// Gram matrix `G = F F^T` of a `[1, N, H, W]` activation, with F reshaped to `[N, M]`, M = H*W.
/// An NHWC (channels_last) activation is read as F^T `[M, N]` without a copy.
pub fn gram(features: &Tensor) -> Tensor {
    let size = features.size();
    let n = size[1];
    let m: i64 = size[2..].iter().product();
    if features.is_contiguous() {
        let f = features.reshape([n, m]);
        f.matmul(&f.tr())
    } else {
        let ft = features.permute([0, 2, 3, 1]).reshape([m, n]);
        ft.tr().matmul(&ft)
    }
}

/// `E_l = 1/(4 N^2 M^2) * sum_ij (G_ij - A_ij)^2` for one layer with N channels and M positions.
pub fn style_layer_loss(g: &Tensor, a: &Tensor, n: i64, m: i64) -> Tensor {
    let norm = 4.0 * (n as f64).powi(2) * (m as f64).powi(2);
    (g - a).square().sum(g.kind()) / norm
}

/// Small constant inside the square root of the TV term: without it the gradient
/// `d/dy sqrt(u)` is infinite wherever the image is flat (u = 0), e.g. a blank border.
pub const TV_EPSILON: f64 = 1e-8;

/// Isotropic total variation `sum_ij sqrt((y[i+1,j]-y[i,j])^2 + (y[i,j+1]-y[i,j])^2 + eps)`
/// over an `[N, C, H, W]` image, summed over channels; i runs over rows, j over columns.
pub fn total_variation(y: &Tensor) -> Tensor {
    let size = y.size();
    let (h, w) = (size[2], size[3]);
    let base = y.narrow(2, 0, h - 1).narrow(3, 0, w - 1);
    let down = y.narrow(2, 1, h - 1).narrow(3, 0, w - 1) - &base;
    let right = y.narrow(2, 0, h - 1).narrow(3, 1, w - 1) - &base;
    (down.square() + right.square() + TV_EPSILON).sqrt().sum(y.kind())
}

/// The weights of the three terms in one evaluation (beta already scaled for the size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TermWeights {
    pub content: f64,
    pub style: f64,
    pub tv: f64,
    /// Live video's temporal term (0 or no temporal target: off).
    pub temporal: f64,
}

/// The objective `alpha*Lc + beta*Ls + lambda*TV` (+ `gamma*Lt` for live video with a
/// temporal target) at `x` ([1, 3, H, W], 0..255 RGB) with its gradient. The five numbers
/// (total, Lc, Ls, TV, Lt) stay on the device until someone reads them.
pub fn objective(
    vgg: &Vgg,
    plan: &LayerPlan,
    targets: &Targets,
    weights: TermWeights,
    x: &Tensor,
) -> Evaluation<Tensor> {
    let xg = x.detach().set_requires_grad(true);
    let feats = vgg.features(&vgg.preprocess(&xg), &plan.taps);
    let device = xg.device();
    let mut lc = Tensor::zeros([], (Kind::Float, device));
    let faces = targets.faces.as_ref();
    for (i, ((pos, wgt), target)) in plan.content.iter().zip(&targets.content_features).enumerate() {
        let f = feats[*pos].to_kind(Kind::Float);
        let loss = match faces.and_then(|m| m.content[i].as_ref()) {
            Some(gain) => weighted_content_loss(&f, target, gain),
            None => content_loss(&f, target),
        };
        lc += loss * *wgt;
    }
    let mut ls = Tensor::zeros([], (Kind::Float, device));
    for (i, ((pos, wgt), target)) in plan.style.iter().zip(&targets.style_grams).enumerate() {
        let f = feats[*pos].to_kind(Kind::Float);
        let s = f.size();
        let g = match faces.and_then(|m| m.style[i].as_ref()) {
            Some(gain) => weighted_gram(&f, gain),
            None => gram(&f),
        };
        ls += style_layer_loss(&g, target, s[1], s[2] * s[3]) * *wgt;
    }
    let tv = total_variation(&xg);
    let mut total = &lc * weights.content + &ls * weights.style + &tv * weights.tv;
    let lt = match &targets.temporal {
        Some(t) if weights.temporal > 0.0 => {
            let lt = temporal_loss(&xg, &t.previous, &t.mask);
            total += &lt * weights.temporal;
            lt
        }
        _ => Tensor::zeros([], (Kind::Float, device)),
    };
    total.backward();
    let parts = Tensor::stack(&[total.detach(), lc.detach(), ls.detach(), tv.detach(), lt.detach()], 0);
    Evaluation { loss: total.detach(), grad: xg.grad(), parts }
}
