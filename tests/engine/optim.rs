//! The optimisers on functions with known minima.

use gallery_painter::engine::optim::{Adam, Evaluation, Lbfgs};
use tch::{Kind, Tensor};

fn rosenbrock(x: &Tensor) -> Result<Evaluation<f64>, ()> {
    let xg = x.detach().set_requires_grad(true);
    let a = xg.get(0);
    let b = xg.get(1);
    let f = (-&a + 1.0).square() + (b - a.square()).square() * 100.0;
    f.backward();
    let v = f.double_value(&[]);
    Ok(Evaluation { loss: f.detach(), grad: xg.grad(), parts: v })
}

#[test]
fn lbfgs_solves_rosenbrock_with_monotone_decrease() {
    let mut x = Tensor::from_slice(&[-1.2f64, 1.0]);
    let mut opt = Lbfgs::new(10);
    let mut last = f64::INFINITY;
    let mut evals = 0;
    for _ in 0..200 {
        let r = opt.step(&mut x, &mut rosenbrock).unwrap();
        assert!(r.parts <= last + 1e-12, "loss went up: {} -> {}", last, r.parts);
        last = r.parts;
        evals += r.evaluations;
        if last < 1e-12 {
            break;
        }
    }
    let v: Vec<f64> = Vec::try_from(&x).unwrap();
    assert!((v[0] - 1.0).abs() < 1e-4 && (v[1] - 1.0).abs() < 1e-4, "ended at {v:?}, loss {last}");
    assert!(evals < 400, "{evals} evaluations");
}

#[test]
fn adam_minimises_a_quadratic() {
    let target = Tensor::from_slice(&[3.0f32, -2.0, 0.5]);
    let mut x = Tensor::zeros([3], (Kind::Float, tch::Device::Cpu));
    let mut opt = Adam::new(0.1);
    let mut f = |x: &Tensor| -> Result<Evaluation<()>, ()> {
        let xg = x.detach().set_requires_grad(true);
        let l = (&xg - &target).square().sum(Kind::Float);
        l.backward();
        Ok(Evaluation { loss: l.detach(), grad: xg.grad(), parts: () })
    };
    for _ in 0..500 {
        opt.step(&mut x, &mut f).unwrap();
    }
    let d = (&x - &target).abs().max().double_value(&[]);
    assert!(d < 1e-2, "distance {d}");
}

/// A quadratic with a badly conditioned diagonal Hessian, in f32 like the engine's images.
fn quadratic(x: &Tensor) -> Result<Evaluation<f64>, ()> {
    let scale = Tensor::from_slice(&[1.0f32, 10.0, 100.0, 3.0, 0.5, 30.0]);
    let target = Tensor::from_slice(&[1.0f32, -2.0, 0.5, 4.0, -1.0, 2.0]);
    let xg = x.detach().set_requires_grad(true);
    let f = ((&xg - &target).square() * &scale).sum(Kind::Float);
    f.backward();
    let v = f.double_value(&[]);
    Ok(Evaluation { loss: f.detach(), grad: xg.grad(), parts: v })
}

/// The two-loop recursion written out on the host in f64, independently of the engine.
fn host_direction(pairs: &[(Vec<f64>, Vec<f64>)], g: &[f64]) -> Vec<f64> {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut q: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut alphas = Vec::new();
    for (s, y) in pairs.iter().rev() {
        let a = dot(s, &q) / dot(y, s);
        q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
        alphas.push(a);
    }
    if let Some((s, y)) = pairs.last() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|q| *q *= gamma);
    }
    for ((s, y), a) in pairs.iter().zip(alphas.into_iter().rev()) {
        let b = dot(y, &q) / dot(y, s);
        q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
    }
    q
}

#[test]
fn lbfgs_direction_matches_the_host_two_loop_and_reads_back_once_per_evaluation() {
    let mut x = Tensor::zeros([6], (Kind::Float, tch::Device::Cpu));
    let mut opt = Lbfgs::new(4);
    let (mut evaluations, mut xs, mut grads) = (0, Vec::new(), Vec::new());
    let as_vec = |t: &Tensor| Vec::<f64>::try_from(&t.to_kind(Kind::Double)).unwrap();
    for _ in 0..6 {
        xs.push(as_vec(&x));
        grads.push(as_vec(&quadratic(&x).unwrap().grad));
        evaluations += opt.step(&mut x, &mut quadratic).unwrap().evaluations;
    }
    xs.push(as_vec(&x));
    grads.push(as_vec(&quadratic(&x).unwrap().grad));
    // One read per objective evaluation: the line search's loss, with g.d, t and y.s in it.
    assert_eq!(opt.readbacks, evaluations, "{} reads for {evaluations} evaluations", opt.readbacks);
    // The compact representation gives the same direction as the host two-loop from the same pairs
    // (the last four steps' s and y, all accepted on this convex problem).
    let g = grads.last().unwrap().clone();
    let pairs: Vec<(Vec<f64>, Vec<f64>)> = (xs.len() - 5..xs.len() - 1)
        .map(|k| {
            let s: Vec<f64> = xs[k + 1].iter().zip(&xs[k]).map(|(a, b)| a - b).collect();
            let y: Vec<f64> = grads[k + 1].iter().zip(&grads[k]).map(|(a, b)| a - b).collect();
            (s, y)
        })
        .collect();
    let want = host_direction(&pairs, &g);
    let got = as_vec(&opt.direction(&Tensor::from_slice(&g).to_kind(Kind::Float)));
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-3 * b.abs().max(1e-3), "direction {got:?} vs host {want:?}");
    }
}
