//! The progressive painter on tiny images: convergence, retargeting, caches, schedule,
//! colour preservation and reproducibility.

use crate::common;

use std::sync::Arc;

use gallery_painter::engine::optim::OptimizerKind;
use gallery_painter::engine::{InitKind, Refiner, StyleImage, StyleParams, imageio};

fn tiny(iterations: u32) -> StyleParams {
    StyleParams { size: 64, iterations, levels: 1, ..StyleParams::default() }
}

fn style(name: &str, weight: f64) -> StyleImage {
    StyleImage { id: name.into(), image: Arc::new(common::style(name)), weight }
}

fn painter(params: StyleParams) -> Refiner {
    let mut p = Refiner::new(common::vgg(), common::cpu(), params).unwrap();
    p.set_content(common::photo(96, 72));
    p.set_styles(vec![style("swirling_night.png", 1.0)]).unwrap();
    p
}

#[test]
fn lbfgs_lowers_the_total_loss_every_step() {
    let mut p = painter(tiny(12));
    p.restart(None).unwrap();
    let mut losses = Vec::new();
    while !p.is_finished() {
        losses.push(p.step().unwrap().losses.total);
    }
    assert_eq!(losses.len(), 12);
    assert!(losses.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-6)), "not monotone: {losses:?}");
    assert!(losses[11] < 0.5 * losses[0], "{losses:?}");
    let img = p.painting().unwrap();
    assert_eq!(img.dimensions(), (64, 48));
}

#[test]
fn adam_lowers_the_loss_from_random_noise() {
    let mut p = painter(StyleParams { optimizer: OptimizerKind::Adam { lr: 8.0 }, init: InitKind::Random, ..tiny(25) });
    p.restart(None).unwrap();
    let first = p.step().unwrap().losses.total;
    let mut last = first;
    while !p.is_finished() {
        last = p.step().unwrap().losses.total;
    }
    assert!(last < 0.6 * first, "{first} -> {last}");
}

#[test]
fn random_init_is_reproducible_by_seed() {
    let run = |seed| {
        let mut p = painter(StyleParams {
            init: InitKind::Random,
            seed,
            optimizer: OptimizerKind::Adam { lr: 4.0 },
            ..tiny(3)
        });
        p.restart(None).unwrap();
        while !p.is_finished() {
            p.step().unwrap();
        }
        p.painting().unwrap()
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(a, b);
    assert!(common::mean_abs_diff(&a, &c) > 1.0);
}

#[test]
fn style_switches_mid_run_without_reloading_and_grams_are_cached() {
    let mut p = painter(tiny(6));
    p.restart(None).unwrap();
    p.step().unwrap();
    assert_eq!(p.cached_style_sizes(), 1);
    p.set_styles(vec![style("ink_waves.png", 1.0)]).unwrap();
    p.step().unwrap();
    assert_eq!(p.cached_style_sizes(), 2);
    // Back to the first style: its Grams come from the cache.
    p.set_styles(vec![style("swirling_night.png", 1.0)]).unwrap();
    p.step().unwrap();
    assert_eq!(p.cached_style_sizes(), 2);
    // New content mid-run, warm-started from the current painting: the iterate is exactly
    // keep * previous painting + (1 - keep) * new photo, not a restart from the photo.
    let previous = p.iterate().unwrap().copy();
    let new_photo = common::style("ember_field.png");
    p.set_content(image::imageops::resize(&new_photo, 96, 72, image::imageops::FilterType::Triangle));
    p.warm_start(0.3).unwrap();
    let photo96 = image::imageops::resize(&new_photo, 96, 72, image::imageops::FilterType::Triangle);
    let photo = imageio::to_tensor(&imageio::resize(&photo96, 64, 48), tch::Device::Cpu);
    let expected = &previous * 0.3 + &photo * 0.7;
    let got = p.iterate().unwrap();
    let err = (got - &expected).abs().max().double_value(&[]);
    assert!(err < 1e-3, "warm start is not the blend: max error {err}");
    let from_photo = (got - &photo).abs().mean(tch::Kind::Float).double_value(&[]);
    assert!(from_photo > 1.0, "the painting restarted from the photo");
    p.step().unwrap();
    assert!(p.progress().losses.total.is_finite());
}

#[test]
fn coarse_to_fine_schedule_ends_at_full_size() {
    let mut p = painter(StyleParams { size: 96, levels: 2, iterations: 3, ..StyleParams::default() });
    p.restart(None).unwrap();
    let mut levels = Vec::new();
    while !p.is_finished() {
        let pr = p.step().unwrap();
        levels.push(pr.level);
        assert_eq!(p.painting().unwrap().dimensions(), (96, 72), "snapshots are always at output size");
    }
    assert_eq!(levels, vec![0, 0, 1, 1, 1, 1]);
    assert_eq!(p.iterate().unwrap().size(), vec![1, 3, 72, 96]);
}

/// (The blend itself is checked number by number in tests/loss_by_hand.rs.)
#[test]
fn colour_preservation_keeps_the_photo_chroma_with_blended_styles() {
    let mut p = painter(StyleParams { preserve_colors: true, ..tiny(4) });
    p.set_styles(vec![style("swirling_night.png", 0.7), style("ember_field.png", 0.3)]).unwrap();
    p.restart(None).unwrap();
    while !p.is_finished() {
        p.step().unwrap();
    }
    let out = p.painting().unwrap();
    // Chroma (I, Q of YIQ) must be the photo's, up to rounding.
    let photo = image::imageops::resize(&common::photo(96, 72), 64, 48, image::imageops::FilterType::Triangle);
    let iq = |p: &image::Rgb<u8>| {
        let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
        (0.596 * r - 0.274 * g - 0.322 * b, 0.211 * r - 0.523 * g + 0.312 * b)
    };
    let mut err = 0.0;
    let mut n = 0.0;
    for (a, b) in out.pixels().zip(photo.pixels()) {
        let (ia, qa) = iq(a);
        let (ib, qb) = iq(b);
        // Clamping to 0..255 can shift chroma where luminance is extreme; compare on average.
        err += (ia - ib).abs() + (qa - qb).abs();
        n += 2.0;
    }
    assert!(err / n < 4.0, "mean chroma error {}", err / n);
}

#[test]
fn bad_parameters_are_rejected_with_reasons() {
    let vgg = common::vgg();
    let err = Refiner::new(
        vgg,
        common::cpu(),
        StyleParams { style_layers: vec![gallery_painter::engine::LayerWeight("relu9_9".into(), 1.0)], ..tiny(1) },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("relu9_9") && err.contains("relu1_1"), "{err}");
    let err = StyleParams { size: 8, ..tiny(1) }.validate().unwrap_err();
    assert_eq!(err.field, "size");
    let err = err.to_string();
    assert!(err.contains("size 8"), "{err}");
}
