//! Optimisers over a single image tensor: Adam and L-BFGS (tch ships neither for plain tensors).
//!
//! Both take an objective that evaluates the loss and its gradient at a point; they own
//! no autograd state, so the caller decides how the gradient is computed.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The loss at a point, its gradient, and whatever breakdown the caller wants carried along.
/// The loss stays a (0-dim) tensor on its device: reading it forces a GPU sync, which Adam
/// never needs and L-BFGS needs for its line search only.
pub struct Evaluation<P> {
    pub loss: Tensor,
    pub grad: Tensor,
    pub parts: P,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Quasi-Newton with a `history`-pair memory; Gatys et al.'s choice. Best quality per step.
    Lbfgs { history: usize },
    /// Adam with learning rate `lr` in pixel units (0..255). Steady, cheap, good for live video.
    Adam { lr: f64 },
}

impl Default for OptimizerKind {
    fn default() -> Self {
        OptimizerKind::Lbfgs { history: 20 }
    }
}

pub enum Optimizer {
    Adam(Adam),
    Lbfgs(Lbfgs),
}

impl Optimizer {
    pub fn new(kind: OptimizerKind) -> Optimizer {
        match kind {
            OptimizerKind::Adam { lr } => Optimizer::Adam(Adam::new(lr)),
            OptimizerKind::Lbfgs { history } => Optimizer::Lbfgs(Lbfgs::new(history)),
        }
    }

    /// The objective changed a little (live video's next frame): keep what was learnt about
    /// its shape (Adam's moments, L-BFGS's curvature pairs) but not values measured on the
    /// old objective (L-BFGS's loss and gradient at `x`).
    pub fn objective_changed(&mut self) {
        match self {
            Optimizer::Adam(_) => {}
            Optimizer::Lbfgs(l) => l.current = None,
        }
    }

    /// What it has learnt so far: L-BFGS's curvature pairs, or Adam's steps taken (0: fresh).
    pub fn memory(&self) -> usize {
        match self {
            Optimizer::Adam(a) => a.t as usize,
            Optimizer::Lbfgs(l) => l.pairs(),
        }
    }

    /// One iteration: updates `x` in place and returns the evaluation at the new point
    /// (for Adam, at the point before the update, the usual convention).
    pub fn step<P, E>(
        &mut self,
        x: &mut Tensor,
        objective: &mut dyn FnMut(&Tensor) -> Result<Evaluation<P>, E>,
    ) -> Result<StepResult<P>, E> {
        match self {
            Optimizer::Adam(a) => a.step(x, objective),
            Optimizer::Lbfgs(l) => l.step(x, objective),
        }
    }
}

pub struct StepResult<P> {
    /// The caller's breakdown at the new point (for Adam: at the point before the update).
    pub parts: P,
    /// Objective evaluations spent (L-BFGS line search may need more than one).
    pub evaluations: usize,
}

pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    m: Option<Tensor>,
    v: Option<Tensor>,
    t: i32,
}

impl Adam {
    pub fn new(lr: f64) -> Adam {
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, m: None, v: None, t: 0 }
    }

    pub fn step<P, E>(
        &mut self,
        x: &mut Tensor,
        objective: &mut dyn FnMut(&Tensor) -> Result<Evaluation<P>, E>,
    ) -> Result<StepResult<P>, E> {
        let e = objective(x)?;
        self.t += 1;
        let g = &e.grad;
        let m = self.m.get_or_insert_with(|| g.zeros_like());
        let v = self.v.get_or_insert_with(|| g.zeros_like());
        // In-place updates: no new allocations per step on the hot path.
        let _ = m.g_mul_scalar_(self.beta1).g_add_(&(g * (1.0 - self.beta1)));
        let _ = v.g_mul_scalar_(self.beta2).g_add_(&(g.square() * (1.0 - self.beta2)));
        let bc1 = 1.0 - self.beta1.powi(self.t);
        let bc2 = 1.0 - self.beta2.powi(self.t);
        let denom = (&*v / bc2).sqrt() + self.eps;
        let update = (&*m / denom) * (self.lr / bc1);
        let _ = x.g_sub_(&update);
        Ok(StepResult { parts: e.parts, evaluations: 1 })
    }
}

/// `a . b` as a 0-dim f64 tensor on the operands' device: no host round trip.
fn dot_on_device(a: &Tensor, b: &Tensor) -> Tensor {
    (a * b).sum(Kind::Double)
}

/// Limited-memory BFGS (Nocedal & Wright, alg. 7.4) with a backtracking Armijo line search
/// that uses quadratic interpolation. Every accepted step strictly decreases the loss.
///
/// Sync-free on a GPU, and few launches: the direction `-H g` comes from the compact
/// representation of the L-BFGS matrix (Byrd, Nocedal & Schnabel 1994; Nocedal & Wright
/// eq. 7.24) instead of the two-loop recursion. The same matrix, but two matrix-vector
/// products over all pairs and a few k x k operations replace 2k dependent dot products and
/// updates: about 20 kernel launches a step instead of about 250, which is what an L-BFGS step
/// cost beyond its objective on a GPU (measured on an H200: 2.5-2.9 ms a step). Every scalar
/// stays on the device; the host reads back one small vector per objective evaluation (the
/// new loss, g.d, the step length and y.s), which the line search needs anyway.
pub struct Lbfgs {
    history: usize,
    memory: Option<Memory>,
    current: Option<(f64, Tensor)>, // loss and gradient at x
    pub max_line_search: usize,
    /// Sufficient-decrease constant of the Armijo condition.
    pub c1: f64,
    /// Device-to-host reads so far (each one is a GPU sync).
    pub readbacks: usize,
}

/// The curvature pairs, oldest first, and their inner products (f64, on the device).
struct Memory {
    /// `[2, k, n]`: the steps s_i in `[0]`, the gradient changes y_i in `[1]`, flattened.
    pairs: Tensor,
    /// `[k, k]`: s_i . y_j on and above the diagonal (R and D of the compact form), 0 below.
    sy: Tensor,
    /// `[k, k]`: y_i . y_j.
    yy: Tensor,
    k: i64,
}

impl Memory {
    /// Adds the pair (s, y), dropping the oldest beyond `history`.
    fn push(this: Option<Memory>, s: &Tensor, y: &Tensor, history: usize) -> Memory {
        let new = Tensor::stack(&[s.reshape([1, -1]), y.reshape([1, -1])], 0);
        let (pairs, sy, yy, k) = match this {
            None => (new, None, None, 1),
            Some(m) => {
                // Full: the oldest pair goes, with its row and column of the products.
                let drop = i64::from(m.k as usize == history);
                let keep = m.k - drop;
                let pairs = Tensor::cat(&[m.pairs.narrow(1, drop, keep), new], 1);
                let sy = m.sy.narrow(0, drop, keep).narrow(1, drop, keep);
                let yy = m.yy.narrow(0, drop, keep).narrow(1, drop, keep);
                (pairs, Some(sy), Some(yy), keep + 1)
            }
        };
        // The new column of both products in one product: [S; Y] y_new.
        let n = pairs.size()[2];
        let col = pairs.reshape([2 * k, n]).mv(&y.reshape([-1])).to_kind(Kind::Double);
        let (sy_col, yy_col) = (col.narrow(0, 0, k).unsqueeze(1), col.narrow(0, k, k).unsqueeze(1));
        let widen = |old: Option<Tensor>, row: Tensor, col: Tensor| match old {
            None => col,
            Some(old) => Tensor::cat(&[Tensor::cat(&[old, row], 0), col], 1),
        };
        let zeros = Tensor::zeros([1, k - 1], (Kind::Double, col.device()));
        let sy = widen(sy, zeros, sy_col);
        let yy = widen(yy, yy_col.narrow(0, 0, k - 1).transpose(0, 1), yy_col);
        Memory { pairs, sy, yy, k }
    }

    /// `H g` of the compact representation, H0 = gamma I with gamma = s.y / y.y of the newest
    /// pair: H g = gamma g + S w - gamma Y p, where p = R^-1 S^T g and
    /// w = R^-T ((D + gamma Y^T Y) p - gamma Y^T g).
    fn times(&self, g: &Tensor) -> Tensor {
        let (k, n) = (self.k, self.pairs.size()[2]);
        let stacked = self.pairs.reshape([2 * k, n]);
        let ab = stacked.mv(&g.reshape([-1])).to_kind(Kind::Double).unsqueeze(1);
        let (a, b) = (ab.narrow(0, 0, k), ab.narrow(0, k, k));
        let last = k - 1;
        let gamma = self.sy.get(last).get(last) / self.yy.get(last).get(last);
        let r = self.sy.triu(0);
        let p = r.linalg_solve_triangular(&a, true, true, false);
        let d = self.sy.diagonal(0, 0, 1).unsqueeze(1);
        let rhs = &d * &p + (self.yy.mm(&p) - &b) * &gamma;
        let w = r.transpose(0, 1).linalg_solve_triangular(&rhs, false, true, false);
        let coefficients = Tensor::cat(&[w, -(&p * &gamma)], 0).squeeze_dim(1).to_kind(stacked.kind());
        let hg = g.reshape([-1]) * gamma.to_kind(stacked.kind()) + stacked.transpose(0, 1).mv(&coefficients);
        hg.view_as(g)
    }
}

impl Lbfgs {
    pub fn new(history: usize) -> Lbfgs {
        Lbfgs { history: history.max(1), memory: None, current: None, max_line_search: 12, c1: 1e-4, readbacks: 0 }
    }

    /// Forgets curvature pairs, e.g. after the objective changed (new content or style).
    pub fn reset(&mut self) {
        self.memory = None;
        self.current = None;
    }

    /// Curvature pairs held.
    pub fn pairs(&self) -> usize {
        self.memory.as_ref().map_or(0, |m| m.k as usize)
    }

    /// The search direction `-H g`, all on the device.
    pub fn direction(&self, g: &Tensor) -> Tensor {
        match &self.memory {
            None => -g,
            Some(m) => -m.times(g),
        }
    }

    /// The only device-to-host copy: a handful of scalars in one read.
    fn read(&mut self, scalars: &[&Tensor]) -> Vec<f64> {
        self.readbacks += 1;
        let stacked = Tensor::stack(&scalars.iter().map(|t| t.to_kind(Kind::Double)).collect::<Vec<_>>(), 0);
        Vec::<f64>::try_from(&stacked.to_device(tch::Device::Cpu)).expect("a 1-d double tensor")
    }

    pub fn step<P, E>(
        &mut self,
        x: &mut Tensor,
        objective: &mut dyn FnMut(&Tensor) -> Result<Evaluation<P>, E>,
    ) -> Result<StepResult<P>, E> {
        let mut evaluations = 0;
        let mut first_parts = None;
        let (f, g) = match self.current.take() {
            Some(c) => c,
            None => {
                let e = objective(x)?;
                evaluations += 1;
                first_parts = Some(e.parts);
                let f = self.read(&[&e.loss])[0];
                (f, e.grad)
            }
        };
        let mut d = self.direction(&g);
        let mut gtd_t = dot_on_device(&g, &d);
        // First step without curvature information: keep it small relative to the gradient,
        // as PyTorch does (t = 1/|g|_1), scaled up since our pixels live in 0..255.
        let first_t = |g: &Tensor| (g.abs().sum(Kind::Double).clamp_min(1e-30).reciprocal()).clamp_max(1.0) * 1e3;
        let mut t_t = if self.memory.is_none() { first_t(&g) } else { Tensor::from(1.0f64).to_device(g.device()) };
        let mut last = None;
        let mut checked_direction = false;
        let (mut t, mut gtd) = (f64::NAN, f64::NAN);
        for _ in 0..self.max_line_search {
            let candidate = &*x + &d * &t_t.to_kind(d.kind());
            let e = objective(&candidate)?;
            evaluations += 1;
            let s = &d * &t_t.to_kind(d.kind());
            let y = &e.grad - &g;
            let ys_t = dot_on_device(&y, &s);
            // One read: the new loss, and on the first try g.d and the step length too.
            let v = self.read(&[&e.loss, &gtd_t, &t_t, &ys_t]);
            let (loss, ys) = (v[0], v[3]);
            if !checked_direction {
                checked_direction = true;
                (gtd, t) = (v[1], v[2]);
                // Not a descent direction (stale curvature), or NaN: fall back to steepest
                // descent and try again (this evaluation is spent).
                if gtd.is_nan() || gtd >= 0.0 {
                    self.memory = None;
                    d = -&g;
                    gtd_t = dot_on_device(&g, &d);
                    t_t = first_t(&g);
                    checked_direction = false;
                    last = Some(e.parts);
                    continue;
                }
            }
            if loss.is_finite() && loss <= f + self.c1 * t * gtd {
                if ys > 1e-10 {
                    self.memory = Some(Memory::push(self.memory.take(), &s, &y, self.history));
                }
                *x = candidate;
                self.current = Some((loss, e.grad));
                return Ok(StepResult { parts: e.parts, evaluations });
            }
            // Minimiser of the quadratic through f, gtd and the new loss, kept in [0.1t, 0.5t].
            let denom = 2.0 * (loss - f - gtd * t);
            let t_q = if denom.is_finite() && denom > 0.0 { -gtd * t * t / denom } else { 0.5 * t };
            t = t_q.clamp(0.1 * t, 0.5 * t);
            t_t = Tensor::from(t).to_device(g.device());
            last = Some(e.parts);
        }
        // No acceptable step: stay put, drop the curvature memory and report the old loss.
        self.memory = None;
        self.current = Some((f, g));
        let parts = first_parts.or(last).expect("at least one evaluation happened");
        Ok(StepResult { parts, evaluations })
    }
}
