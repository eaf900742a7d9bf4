//! Optimisers over a single image tensor: Adam and L-BFGS (tch ships neither for plain tensors).
//!
//! Both take an objective that evaluates the loss and its gradient at a point; they own
//! no autograd state, so the caller decides how the gradient is computed.

use std::collections::VecDeque;

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
            Optimizer::Lbfgs(l) => l.pairs.len(),
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
/// Sync-free on a GPU: the two-loop recursion keeps its scalars (rho, alpha, beta, the
/// initial scaling) as 0-dim tensors on the device. The host reads back one small vector per
/// objective evaluation (the new loss, g.d, the step length and y.s), which the line search
/// needs anyway; an accepted first step is one read per iteration.
pub struct Lbfgs {
    history: usize,
    pairs: VecDeque<(Tensor, Tensor, Tensor)>, // (s, y, 1 / y.s), the last as a device scalar
    current: Option<(f64, Tensor)>,            // loss and gradient at x
    pub max_line_search: usize,
    /// Sufficient-decrease constant of the Armijo condition.
    pub c1: f64,
    /// Device-to-host reads so far (each one is a GPU sync).
    pub readbacks: usize,
}

impl Lbfgs {
    pub fn new(history: usize) -> Lbfgs {
        Lbfgs {
            history: history.max(1),
            pairs: VecDeque::new(),
            current: None,
            max_line_search: 12,
            c1: 1e-4,
            readbacks: 0,
        }
    }

    /// Forgets curvature pairs, e.g. after the objective changed (new content or style).
    pub fn reset(&mut self) {
        self.pairs.clear();
        self.current = None;
    }

    /// The search direction `-H g` by the two-loop recursion, all on the device.
    pub fn direction(&self, g: &Tensor) -> Tensor {
        let mut q = -g;
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, rho) in self.pairs.iter().rev() {
            let a = rho * dot_on_device(s, &q);
            q -= y * &a;
            alphas.push(a);
        }
        if let Some((s, y, _)) = self.pairs.back() {
            // Scale the initial Hessian by s.y / y.y, the standard choice.
            q *= dot_on_device(s, y) / dot_on_device(y, y);
        }
        for ((s, y, rho), a) in self.pairs.iter().zip(alphas.into_iter().rev()) {
            let b = rho * dot_on_device(y, &q);
            q += s * (a - b);
        }
        q
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
        let mut t_t = if self.pairs.is_empty() { first_t(&g) } else { Tensor::from(1.0f64).to_device(g.device()) };
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
                    self.pairs.clear();
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
                    if self.pairs.len() == self.history {
                        self.pairs.pop_front();
                    }
                    self.pairs.push_back((s, y, ys_t.reciprocal()));
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
        self.pairs.clear();
        self.current = Some((f, g));
        let parts = first_parts.or(last).expect("at least one evaluation happened");
        Ok(StepResult { parts, evaluations })
    }
}
