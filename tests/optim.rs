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
