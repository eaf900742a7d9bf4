//! The Live mirror: the temporal term (by hand and against finite differences), the change
//! mask, the starting point, and the painter following a moving figure at full size while
//! the still background stays still.

use crate::common;

use std::sync::Arc;

use gallery_painter::capture::synthetic::{SyntheticScene, SyntheticVisitor};
use gallery_painter::engine::imageio::{self, to_tensor};
use gallery_painter::engine::live::{LiveMemory, temporal_loss, unchanged_mask};
use gallery_painter::engine::{LiveSettings, Refiner, StyleImage, StyleParams};
use image::{Rgb, RgbImage};
use tch::{Device, Kind, Tensor};

fn t(values: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values).view(shape).to_kind(Kind::Float)
}

#[test]
fn temporal_loss_is_the_masked_squared_distance_to_the_previous_painting() {
    // 1x1 image of 2 channels would not be RGB; a 1x2 RGB image is enough by hand.
    let prev = t(&[10., 20., 30., 40., 50., 60.], &[1, 3, 1, 2]);
    let x = t(&[11., 20., 30., 43., 50., 58.], &[1, 3, 1, 2]);
    let mask = t(&[1., 0.], &[1, 1, 1, 2]);
    // Only the first pixel counts: (11-10)^2 + (30-30)^2 + (50-50)^2 = 1.
    assert_eq!(temporal_loss(&x, &prev, &mask).double_value(&[]), 1.0);
    let full = t(&[1., 1.], &[1, 1, 1, 2]);
    // All pixels: 1 + 0 + 9 + 0 + 0 + 4 = 14.
    assert_eq!(temporal_loss(&x, &prev, &full).double_value(&[]), 14.0);
    // Zero when the painting is the (warped) previous one, whatever the mask.
    assert_eq!(temporal_loss(&prev, &prev, &full).double_value(&[]), 0.0);
}

#[test]
fn temporal_loss_gradient_matches_finite_differences() {
    tch::manual_seed(5);
    let opts = (Kind::Double, Device::Cpu);
    let prev = Tensor::rand([1, 3, 4, 5], opts) * 255.0;
    let mask = Tensor::rand([1, 1, 4, 5], opts).gt(0.4).to_kind(Kind::Double);
    let x = (Tensor::rand([1, 3, 4, 5], opts) * 255.0).set_requires_grad(true);
    let f = |x: &Tensor| ((x - &prev).square() * &mask).sum(Kind::Double);
    assert!((f(&x) - temporal_loss(&x, &prev, &mask).to_kind(Kind::Double)).abs().double_value(&[]) < 1e-2);
    temporal_loss(&x, &prev, &mask).backward();
    let analytic = x.grad().reshape([-1]);
    let flat = x.detach().reshape([-1]);
    let h = 1e-3;
    for i in 0..flat.size()[0] {
        let plus = flat.copy();
        let _ = plus.get(i).fill_(flat.double_value(&[i]) + h);
        let minus = flat.copy();
        let _ = minus.get(i).fill_(flat.double_value(&[i]) - h);
        let numeric = (f(&plus.reshape([1, 3, 4, 5])) - f(&minus.reshape([1, 3, 4, 5]))).double_value(&[]) / (2.0 * h);
        let a = analytic.double_value(&[i]);
        assert!((numeric - a).abs() <= 1e-2 * (1.0 + a.abs()), "element {i}: numeric {numeric} analytic {a}");
    }
}

/// A grey room with a dark 6x6 square at column `x`.
fn room_with_square(x: u32) -> RgbImage {
    RgbImage::from_fn(40, 30, |px, py| {
        if (x..x + 6).contains(&px) && (12..18).contains(&py) { Rgb([30, 30, 30]) } else { Rgb([180, 170, 160]) }
    })
}

#[test]
fn change_mask_is_zero_where_the_frame_changed_and_one_where_it_held_still() {
    let old = to_tensor(&room_with_square(5), Device::Cpu);
    let new = to_tensor(&room_with_square(25), Device::Cpu);
    let mask = unchanged_mask(&old, &new, 12.0, 0);
    assert_eq!(mask.size(), [1, 1, 30, 40]);
    let at = |m: &Tensor, x: i64, y: i64| m.double_value(&[0, 0, y, x]);
    // Where the square was and where it is now: changed.
    assert_eq!(at(&mask, 7, 14), 0.0);
    assert_eq!(at(&mask, 27, 15), 0.0);
    // Far from both: still.
    assert_eq!(at(&mask, 17, 3), 1.0);
    assert_eq!(at(&mask, 38, 28), 1.0);
    // The margin grows the changed areas: two pixels beyond the blurred edge are changed too.
    let grown = unchanged_mask(&old, &new, 12.0, 2);
    assert_eq!(at(&mask, 34, 15), 1.0);
    assert_eq!(at(&grown, 33, 15), 0.0);
    assert!(grown.sum(Kind::Float).double_value(&[]) < mask.sum(Kind::Float).double_value(&[]));
    // Identical frames, and noise below the threshold: nothing changed.
    assert_eq!(unchanged_mask(&old, &old, 12.0, 2).min().double_value(&[]), 1.0);
    let noisy = &old + (Tensor::rand_like(&old) * 10.0 - 5.0);
    assert_eq!(unchanged_mask(&old, &noisy, 12.0, 2).min().double_value(&[]), 1.0);
}

/// Held by the temporal loss after 3 still frames, part of the plate only after 6; a quarter
/// of the painting kept where a visitor arrives; no margin around changes.
fn plate_settings() -> LiveSettings {
    LiveSettings {
        keep: 0.25,
        change_margin: 0.0,
        settle_frames: 3,
        background_after_frames: 6,
        ..LiveSettings::default()
    }
}

#[test]
fn carry_over_keeps_the_still_room_paints_the_newcomer_and_gives_back_the_painted_room() {
    let live = plate_settings();
    let frame = |x: Option<u32>| match x {
        Some(x) => to_tensor(&room_with_square(x), Device::Cpu),
        None => to_tensor(&RgbImage::from_pixel(40, 30, Rgb([180, 170, 160])), Device::Cpu),
    };
    let at = |m: &Tensor, x: i64, y: i64| m.double_value(&[0, 0, y, x]);
    let empty = frame(None);
    let painted_room = Tensor::full([1, 3, 30, 40], 100.0, (Kind::Float, Device::Cpu));
    let mut memory = LiveMemory::settled(&empty, &painted_room);
    // A visitor (the dark square) steps in at x = 5..11.
    let arrived = frame(Some(5));
    let c = memory.carry_over(&empty, &arrived, &painted_room, &live);
    assert!(c.changed > 0.02 && c.changed < 0.2, "changed {}", c.changed);
    // Still room: the painting as it was, held by the temporal loss.
    assert_eq!(at(&c.start, 30, 5), 100.0);
    assert_eq!(at(&c.temporal.mask, 30, 5), 1.0);
    // The newcomer: keep * painting + (1 - keep) * photo, and free to change.
    assert_eq!(at(&c.start, 7, 14), 0.25 * 100.0 + 0.75 * 30.0);
    assert_eq!(at(&c.temporal.mask, 7, 14), 0.0);
    // The visitor moves on to x = 25..31; the painting of the visitor is now 40 there.
    let painted_visitor = c.start.shallow_clone() - 7.5;
    let moved = frame(Some(25));
    let c = memory.carry_over(&arrived, &moved, &painted_visitor, &live);
    // Where they stood, the room is back: the painted room from the plate, not a ghost.
    assert_eq!(at(&c.start, 7, 14), 100.0);
    assert_eq!(at(&c.start, 27, 14), 0.25 * 92.5 + 0.75 * 30.0);
    assert_eq!(at(&c.temporal.mask, 27, 14), 0.0);
    // A pixel that changed stays free for `settle_frames` frames, then is held again.
    let mut painting = c.start.shallow_clone();
    let mut held = Vec::new();
    for _ in 0..4 {
        let c = memory.carry_over(&moved, &moved, &painting, &live);
        assert_eq!(c.changed, 0.0);
        held.push(at(&c.temporal.mask, 27, 14));
        painting = c.start;
    }
    assert_eq!(held, vec![0.0, 0.0, 1.0, 1.0]);
    // Still for `background_after_frames`: the plate learns the scene as it is now, so when the
    // visitor finally leaves, that spot starts from the photo blend, not from the old room.
    for _ in 0..3 {
        painting = memory.carry_over(&moved, &moved, &painting, &live).start;
    }
    let painted_there = at(&painting, 27, 14);
    let c = memory.carry_over(&moved, &empty, &painting, &live);
    assert_eq!(at(&c.start, 27, 14), 0.25 * painted_there + 0.75 * 180.0);
}

#[test]
fn a_visitor_who_leaves_before_background_after_frames_gets_the_painted_room_back() {
    let live = plate_settings();
    let at = |m: &Tensor, x: i64, y: i64| m.double_value(&[0, 0, y, x]);
    let empty = to_tensor(&RgbImage::from_pixel(40, 30, Rgb([180, 170, 160])), Device::Cpu);
    let painted_room = Tensor::full([1, 3, 30, 40], 100.0, (Kind::Float, Device::Cpu));
    let mut memory = LiveMemory::settled(&empty, &painted_room);
    let visitor = to_tensor(&room_with_square(25), Device::Cpu);
    let mut painting = memory.carry_over(&empty, &visitor, &painted_room, &live).start - 7.5;
    // The visitor stands still for 5 frames: held (settled), but not yet the room.
    for _ in 0..5 {
        painting = memory.carry_over(&visitor, &visitor, &painting, &live).start;
    }
    let painted_visitor = at(&painting, 27, 14);
    assert_ne!(painted_visitor, 100.0);
    // They leave: where they stood, the painted room comes back, not their own portrait.
    let c = memory.carry_over(&visitor, &empty, &painting, &live);
    assert_eq!(at(&c.start, 27, 14), 100.0, "a ghost of the visitor ({painted_visitor}) was painted back");
}

fn live_painter(params: StyleParams) -> Refiner {
    let mut p = Refiner::new(common::vgg(), common::cpu(), params).unwrap();
    let style = StyleImage { id: "s".into(), image: Arc::new(common::style("swirling_night.png")), weight: 1.0 };
    p.set_styles(vec![style]).unwrap();
    p
}

#[test]
fn follow_keeps_a_still_scene_exactly_and_the_optimiser_with_it() {
    // 128 px in two levels: 64 px, then 128 px.
    let params = StyleParams { size: 128, levels: 2, iterations: 4, ..StyleParams::default() };
    let mut p = live_painter(params);
    let still = common::photo(96, 72);
    let first = p.follow(still.clone(), &LiveSettings::default()).unwrap();
    assert_eq!(first.changed, 1.0, "the first frame is a fresh start");
    for _ in 0..3 {
        p.step().unwrap();
    }
    assert_eq!(p.iterate().unwrap().size(), [1, 3, 48, 64], "the first frame starts coarse");
    let next = p.follow(still.clone(), &LiveSettings::default()).unwrap();
    // Moving to the finest level is a new size: the optimiser starts afresh once.
    assert!(!next.kept_optimizer);
    assert_eq!(p.iterate().unwrap().size(), [1, 3, 96, 128], "Live paints at the full size");
    p.step().unwrap();
    let before = p.iterate().unwrap().copy();
    let same = p.follow(still.clone(), &LiveSettings::default()).unwrap();
    assert_eq!(same.changed, 0.0);
    assert!(same.kept_optimizer);
    // Nothing changed: the painting carries over exactly (no pull back towards the photo).
    assert_eq!((p.iterate().unwrap() - &before).abs().max().double_value(&[]), 0.0);
    let step = p.step().unwrap();
    assert!(step.losses.temporal >= 0.0 && step.losses.total.is_finite());
    assert_eq!(p.painting().unwrap().dimensions(), (128, 96));
}

#[test]
fn live_keeps_the_optimisers_curvature_pairs_across_frames_and_drops_them_for_a_new_picture() {
    // One level at 64 px: L-BFGS gathers curvature pairs from the first steps.
    let params = StyleParams { size: 64, levels: 1, iterations: 20, ..StyleParams::default() };
    let mut p = live_painter(params);
    let still = common::photo(64, 48);
    p.follow(still.clone(), &LiveSettings::default()).unwrap();
    for _ in 0..3 {
        p.step().unwrap();
    }
    let learnt = p.optimizer_memory();
    assert!(learnt > 0, "L-BFGS has curvature pairs after three steps");
    // The next frame (nothing moved): the pairs themselves carry over, not just a flag.
    let same = p.follow(still.clone(), &LiveSettings::default()).unwrap();
    assert!(same.kept_optimizer);
    assert_eq!(p.optimizer_memory(), learnt, "the curvature pairs carry over to the next frame");
    p.step().unwrap();
    assert!(p.optimizer_memory() >= learnt, "and go on growing");
    // A different picture (more than fresh_start_above of it changed): the optimiser starts over.
    let mut other = still.clone();
    image::imageops::invert(&mut other);
    let fresh = p.follow(other, &LiveSettings::default()).unwrap();
    assert!(fresh.changed > 0.5 && !fresh.kept_optimizer, "changed {}", fresh.changed);
    assert_eq!(p.optimizer_memory(), 0, "a new picture gets a fresh optimiser");
}

/// Horizontal centre of where two `[1,3,H,W]` images differ most (columns above half the peak).
fn centre_of_difference(a: &Tensor, b: &Tensor) -> f64 {
    let profile = (a - b).abs().mean_dim(1, false, Kind::Float).mean_dim(1, false, Kind::Float).view([-1]);
    let v: Vec<f64> = Vec::try_from(profile.to_kind(Kind::Double)).unwrap();
    let max = v.iter().cloned().fold(0.0, f64::max);
    let (mut s, mut w) = (0.0, 0.0);
    for (x, d) in v.iter().enumerate().filter(|(_, d)| **d > 0.5 * max) {
        s += (x as f64 + 0.5) * d;
        w += d;
    }
    s / w
}

/// A visitor walks into a painted empty room (64 px, 4 iterations a frame) and stands. Returns
/// the painted figure's distance from the visitor at the end, and how much the background on
/// the side away from the visitor changed from frame to frame.
fn walk_in(follow: bool) -> (f64, Vec<f64>) {
    let params = StyleParams { size: 64, levels: 1, iterations: 30, ..StyleParams::default() };
    let live = LiveSettings { iterations_per_frame: 4, ..LiveSettings::default() };
    let visitor = SyntheticVisitor::Scripted { away_s: 1.0, still_s: 30.0, stay_s: 30.0 };
    let scene = SyntheticScene::new(5, 0.0, 320, 240).with_visitor(visitor);
    let frame = |t: f32| imageio::resize(&scene.render(t), 64, 48);
    let mut p = live_painter(params);
    p.follow(frame(0.0), &live).unwrap();
    while !p.is_finished() {
        p.step().unwrap();
    }
    let empty_painting = to_tensor(&p.painting().unwrap(), Device::Cpu);
    let empty_frame = to_tensor(&frame(0.0), Device::Cpu);
    let mut previous = empty_painting.shallow_clone();
    let mut background_change = Vec::new();
    let mut offset = f64::NAN;
    for time in [1.3f32, 1.6, 1.9, 2.2, 2.5, 2.8, 3.1, 3.4] {
        if follow {
            p.follow(frame(time), &live).unwrap();
        } else {
            // The Live mode before: blend 0.7 of the painting with the photo, fresh optimiser.
            p.set_content(frame(time));
            p.warm_start(0.7).unwrap();
        }
        for _ in 0..live.iterations_per_frame {
            p.step().unwrap();
        }
        let painting = to_tensor(&p.painting().unwrap(), Device::Cpu);
        let truth = centre_of_difference(&to_tensor(&frame(time), Device::Cpu), &empty_frame);
        // A strip of background on the side away from the visitor.
        let far = |img: &Tensor| if truth > 32.0 { img.narrow(3, 0, 12) } else { img.narrow(3, 52, 12) };
        background_change.push((far(&painting) - far(&previous)).abs().mean(Kind::Float).double_value(&[]));
        offset = (centre_of_difference(&painting, &empty_painting) - truth).abs();
        previous = painting;
    }
    (offset, background_change)
}

#[test]
fn follow_moves_the_painted_figure_and_holds_the_background() {
    let (offset, held) = walk_in(true);
    // The visitor walks ~40 px across the 64 px frame: a painting that had not followed them
    // would be 20 px or more off; one that did is within a few pixels (5.2 measured).
    assert!(offset < 8.0, "the painted figure is {offset:.1} px from the visitor");
    let (_, before) = walk_in(false);
    // Where nobody moved, the painting holds stiller than with the blend of before (measured:
    // half as much change; the bench measures the temporal error on a larger picture).
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&held) < 0.7 * mean(&before), "background change {held:?}, before {before:?}");
}

#[test]
fn another_painter_continues_a_mirror_from_its_last_painting_at_full_size() {
    // What a farm painter does when it takes a kiosk's mirror over: the painting it is sent
    // becomes the iterate at the finest level, and the next frame carries it over as its own.
    let params = StyleParams { size: 96, levels: 2, iterations: 5, ..StyleParams::default() };
    let mut p = live_painter(params);
    let frame = common::photo(96, 72);
    let mut painting = frame.clone();
    image::imageops::invert(&mut painting);
    p.set_content(frame.clone());
    p.continue_from(&painting).unwrap();
    assert_eq!(p.progress().level, 1, "no coarse levels again");
    assert_eq!(p.iterate().unwrap().size(), [1, 3, 72, 96]);
    let given =
        tch::Tensor::from_slice(painting.as_raw()).to_kind(tch::Kind::Float).view([72, 96, 3]).permute([2, 0, 1]);
    let err = (p.iterate().unwrap().squeeze_dim(0) - given).abs().max().double_value(&[]);
    assert!(err < 1e-3, "the iterate is the painting it was given (max error {err})");
    p.step().unwrap();
    // The same frame again: nothing changed, so the painting carries over exactly.
    let before = p.iterate().unwrap().copy();
    let same = p.follow(frame, &LiveSettings::default()).unwrap();
    assert_eq!(same.changed, 0.0);
    assert_eq!((p.iterate().unwrap() - &before).abs().max().double_value(&[]), 0.0);
}
