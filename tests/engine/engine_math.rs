//! The loss terms against values computed by hand, and a finite-difference check of the
//! gradient of the total loss.

use gallery_painter::engine::loss::{TV_EPSILON, content_loss, gram, style_layer_loss, total_variation};
use tch::{Kind, Tensor};

fn t(values: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values).reshape(shape)
}

fn close(a: f64, b: f64, rel: f64) {
    assert!((a - b).abs() <= rel * b.abs().max(1e-12), "{a} vs {b}");
}

#[test]
fn content_loss_is_half_the_squared_error() {
    let f = t(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
    let p = t(&[0.0, 2.0, 5.0, 3.0], &[1, 1, 2, 2]);
    // 1/2 * (1 + 0 + 4 + 1) = 3
    close(content_loss(&f, &p).double_value(&[]), 3.0, 1e-12);
}

#[test]
fn gram_is_feature_inner_products() {
    // N = 2 channels, M = 3 positions: F = [[1,2,3],[0,1,-1]]
    let f = t(&[1.0, 2.0, 3.0, 0.0, 1.0, -1.0], &[1, 2, 1, 3]);
    let g = gram(&f);
    let got: Vec<f64> = Vec::try_from(&g.reshape([-1])).unwrap();
    // [[1+4+9, 0+2-3], [.., 0+1+1]]
    assert_eq!(got, vec![14.0, -1.0, -1.0, 2.0]);
}

#[test]
fn style_layer_loss_uses_the_papers_normalisation() {
    let g = t(&[14.0, -1.0, -1.0, 2.0], &[2, 2]);
    let a = t(&[10.0, 0.0, 0.0, 2.0], &[2, 2]);
    // sum (G-A)^2 = 16 + 1 + 1 + 0 = 18; 1/(4 N^2 M^2) with N=2, M=3: 18 / (4*4*9) = 0.125
    close(style_layer_loss(&g, &a, 2, 3).double_value(&[]), 0.125, 1e-12);
}

#[test]
fn total_variation_is_isotropic() {
    // One channel 2x3 image: only (i=0, j=0) and (i=0, j=1) have both neighbours.
    // y = [[0, 3, 1],
    //      [4, 3, 0]]
    // (0,0): down 4-0=4, right 3-0=3 -> 5;  (0,1): down 3-3=0, right 1-3=-2 -> 2
    let y = t(&[0.0, 3.0, 1.0, 4.0, 3.0, 0.0], &[1, 1, 2, 3]);
    close(total_variation(&y).double_value(&[]), 7.0, 1e-6);
    // A flat image costs only the epsilon and has a finite gradient.
    let flat = Tensor::ones([1, 3, 4, 4], (Kind::Double, tch::Device::Cpu)).set_requires_grad(true);
    let tv = total_variation(&flat);
    close(tv.double_value(&[]), 27.0 * TV_EPSILON.sqrt(), 1e-6);
    tv.backward();
    assert!(flat.grad().isfinite().all().int64_value(&[]) == 1);
}

/// alpha*Lc + beta*Ls + lambda*TV through a small random conv "network" in double precision.
fn total(x: &Tensor, w1: &Tensor, w2: &Tensor, p: &Tensor, a1: &Tensor, a2: &Tensor) -> Tensor {
    let f1 = x.conv2d(w1, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1).relu();
    let f2 = f1.conv2d(w2, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1).relu();
    let s1 = f1.size();
    let s2 = f2.size();
    let ls = style_layer_loss(&gram(&f1), a1, s1[1], s1[2] * s1[3]) * 0.5
        + style_layer_loss(&gram(&f2), a2, s2[1], s2[2] * s2[3]) * 0.5;
    content_loss(&f2, p) * 1.0 + ls * 100.0 + total_variation(x) * 0.1
}

#[test]
fn gradient_of_the_total_loss_matches_finite_differences() {
    tch::manual_seed(3);
    let opts = (Kind::Double, tch::Device::Cpu);
    let w1 = Tensor::randn([4, 3, 3, 3], opts) * 0.5;
    let w2 = Tensor::randn([5, 4, 3, 3], opts) * 0.5;
    let content = Tensor::rand([1, 3, 6, 7], opts);
    let style = Tensor::rand([1, 3, 6, 7], opts);
    let p = content
        .conv2d(&w1, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1)
        .relu()
        .conv2d(&w2, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1)
        .relu();
    let sf1 = style.conv2d(&w1, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1).relu();
    let sf2 = sf1.conv2d(&w2, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1).relu();
    let (a1, a2) = (gram(&sf1), gram(&sf2));
    let x = Tensor::rand([1, 3, 6, 7], opts).set_requires_grad(true);
    let loss = total(&x, &w1, &w2, &p, &a1, &a2);
    loss.backward();
    let analytic = x.grad();
    let h = 1e-6;
    let flat = x.detach().reshape([-1]);
    let mut checked = 0;
    for i in (0..flat.size()[0]).step_by(7) {
        let plus = flat.copy();
        let _ = plus.get(i).fill_(flat.double_value(&[i]) + h);
        let minus = flat.copy();
        let _ = minus.get(i).fill_(flat.double_value(&[i]) - h);
        let fp = total(&plus.reshape([1, 3, 6, 7]), &w1, &w2, &p, &a1, &a2).double_value(&[]);
        let fm = total(&minus.reshape([1, 3, 6, 7]), &w1, &w2, &p, &a1, &a2).double_value(&[]);
        let numeric = (fp - fm) / (2.0 * h);
        let a = analytic.reshape([-1]).double_value(&[i]);
        assert!((numeric - a).abs() <= 1e-5 * (1.0 + a.abs()), "element {i}: numeric {numeric} analytic {a}");
        checked += 1;
    }
    assert!(checked > 15);
}
