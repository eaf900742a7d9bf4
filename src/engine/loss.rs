//! The three terms of Gatys et al. (2015), each exactly as the paper writes it. The bottom
//! of the engine: the objective ([`super::objective`]), faces and targets build on these.

use tch::Tensor;

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
