//! The objective Gatys et al. minimise, over the layer plan and the targets: the loss terms
//! of [`super::loss`], weighted per face where the targets carry face maps, plus live video's
//! temporal term.

use tch::{Kind, Tensor};

use super::faces::{weighted_content_loss, weighted_gram};
use super::live::temporal_loss;
use super::loss::{content_loss, gram, style_layer_loss, total_variation};
use super::optim::Evaluation;
use super::targets::{LayerPlan, Targets};
use super::vgg::Vgg;

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
