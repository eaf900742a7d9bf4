//! The presence detector on generated frame sequences: a figure that enters, holds still,
//! moves and leaves; lighting that changes with nobody there; the synthetic visitor script.

use gallery_painter::capture::presence::{PresenceConfig, PresenceDetector, PresenceEvent};
use gallery_painter::capture::synthetic::{SyntheticScene, SyntheticVisitor, WALK_S, figure_position};
use image::{Rgb, RgbImage};

const FPS: f64 = 15.0;

/// A textured empty room: gradients and stripes, so that a global gain is not a flat offset.
fn room(w: u32, h: u32, gain: f32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        // At most ~165: a 40 % brighter room still does not saturate.
        let base = 40.0 + 100.0 * (y as f32 / h as f32) + 25.0 * ((x as f32 * 0.15).sin());
        let v = (base * gain).clamp(0.0, 255.0) as u8;
        Rgb([v, (v as f32 * 0.9) as u8, (v as f32 * 0.8) as u8])
    })
}

/// The room with a dark figure (a person-sized block) centred at `x` (fraction of the width).
fn with_figure(w: u32, h: u32, x: f32) -> RgbImage {
    let mut img = room(w, h, 1.0);
    let (cx, fw, top) = ((x * w as f32) as i64, (w / 6) as i64, (h / 4) as i64);
    for py in top..h as i64 {
        for px in (cx - fw / 2).max(0)..(cx + fw / 2).min(w as i64) {
            img.put_pixel(px as u32, py as u32, Rgb([30, 25, 60]));
        }
    }
    img
}

/// Feeds frames at 15 fps and returns (time, event) pairs.
fn run(
    detector: &mut PresenceDetector,
    frames: impl IntoIterator<Item = RgbImage>,
    t0: f64,
) -> Vec<(f64, PresenceEvent)> {
    let mut out = Vec::new();
    for (i, f) in frames.into_iter().enumerate() {
        let t = t0 + i as f64 / FPS;
        for e in detector.update(&f, t) {
            out.push((t, e));
        }
    }
    out
}

fn events(v: &[(f64, PresenceEvent)]) -> Vec<PresenceEvent> {
    v.iter().map(|(_, e)| *e).collect()
}

#[test]
fn a_figure_entering_holding_still_moving_and_leaving_gives_the_four_events_in_order() {
    let (w, h) = (320, 240);
    let mut d = PresenceDetector::new(PresenceConfig::default());
    let n = |s: f64| (s * FPS) as usize;
    let empty = run(&mut d, (0..n(2.0)).map(|_| room(w, h, 1.0)), 0.0);
    assert!(empty.is_empty(), "nobody there yet: {empty:?}");
    // Walks in over one second, stands for three, steps aside (moves) for one, stands, leaves.
    let mut frames = Vec::new();
    for i in 0..n(1.0) {
        frames.push(with_figure(w, h, -0.1 + 0.6 * i as f32 / n(1.0) as f32));
    }
    frames.extend((0..n(3.0)).map(|_| with_figure(w, h, 0.5)));
    for i in 0..n(1.0) {
        frames.push(with_figure(w, h, 0.5 + 0.15 * (i as f32 * 0.6).sin()));
    }
    frames.extend((0..n(2.0)).map(|_| with_figure(w, h, 0.5)));
    frames.extend((0..n(3.0)).map(|_| room(w, h, 1.0)));
    let seen = run(&mut d, frames, 2.0);
    assert_eq!(
        events(&seen),
        vec![
            PresenceEvent::Entered,
            PresenceEvent::Still,
            PresenceEvent::Moved,
            PresenceEvent::Still,
            PresenceEvent::Moved, // walking away is moving
            PresenceEvent::Left
        ],
        "{seen:?}"
    );
    let at = |e: PresenceEvent| seen.iter().find(|(_, x)| *x == e).unwrap().0;
    assert!(at(PresenceEvent::Entered) < 2.8, "entered late: {seen:?}");
    // Still: arrives at 3.0 s, still_after_s = 1 s later (a few frames of slack).
    let still = at(PresenceEvent::Still);
    assert!((3.9..4.5).contains(&still), "still at {still}");
    // Left: the figure is gone at 9.0 s; leave_after_s = 1.5 s.
    let left = seen.last().unwrap().0;
    assert!((10.4..11.0).contains(&left), "left at {left}");
    assert!(!d.reading().present);
}

#[test]
fn lights_switched_on_or_dimmed_with_nobody_there_is_not_a_visitor() {
    let (w, h) = (320, 240);
    let mut d = PresenceDetector::new(PresenceConfig::default());
    let mut frames: Vec<RgbImage> = (0..30).map(|_| room(w, h, 1.0)).collect();
    frames.extend((0..60).map(|_| room(w, h, 1.4))); // a step up of 40 %
    frames.extend((0..60).map(|_| room(w, h, 0.7))); // and down below the start
    let seen = run(&mut d, frames, 0.0);
    assert!(seen.is_empty(), "a brightness step counted as a visitor: {seen:?}");
    assert!(d.reading().foreground < 0.01, "{:?}", d.reading());
}

#[test]
fn camera_noise_and_flicker_do_not_count_as_a_visitor() {
    let (w, h) = (320, 240);
    let mut d = PresenceDetector::new(PresenceConfig::default());
    let mut rng = 0x1234_5678_u64;
    let mut noise = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 17) as i16 - 8
    };
    let frames: Vec<RgbImage> = (0..150)
        .map(|i| {
            // Mains flicker: +-4 % every other frame, and per-pixel noise of +-8 levels.
            let mut f = room(w, h, if i % 2 == 0 { 1.04 } else { 0.96 });
            for p in f.pixels_mut() {
                let n = noise();
                for c in 0..3 {
                    p[c] = (p[c] as i16 + n).clamp(0, 255) as u8;
                }
            }
            f
        })
        .collect();
    let seen = run(&mut d, frames, 0.0);
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn a_short_dip_below_the_leave_threshold_does_not_end_the_visit() {
    // Hysteresis: a figure that vanishes for half a second (occlusion, a glitch) stays present.
    let (w, h) = (320, 240);
    let mut d = PresenceDetector::new(PresenceConfig::default());
    let mut frames: Vec<RgbImage> = (0..15).map(|_| room(w, h, 1.0)).collect();
    frames.extend((0..30).map(|_| with_figure(w, h, 0.5)));
    frames.extend((0..7).map(|_| room(w, h, 1.0)));
    frames.extend((0..30).map(|_| with_figure(w, h, 0.5)));
    let seen = run(&mut d, frames, 0.0);
    assert!(!events(&seen).contains(&PresenceEvent::Left), "{seen:?}");
    assert!(d.reading().present);
}

#[test]
fn nothing_outside_the_region_of_interest_counts() {
    let (w, h) = (320, 240);
    // Only the right half is watched; the figure walks on the left.
    let cfg = PresenceConfig { region: (0.5, 0.0, 1.0, 1.0), ..Default::default() };
    let mut d = PresenceDetector::new(cfg);
    let mut frames: Vec<RgbImage> = (0..15).map(|_| room(w, h, 1.0)).collect();
    frames.extend((0..45).map(|_| with_figure(w, h, 0.2)));
    assert!(run(&mut d, frames, 0.0).is_empty());
    let frames: Vec<RgbImage> = (0..45).map(|_| with_figure(w, h, 0.75)).collect();
    assert_eq!(events(&run(&mut d, frames, 4.0))[0], PresenceEvent::Entered);
}

#[test]
fn the_synthetic_visitor_is_seen_to_come_hold_still_and_go_on_schedule() {
    let script = SyntheticVisitor::Scripted { away_s: 4.0, still_s: 4.0, stay_s: 8.0 };
    let scene = SyntheticScene::new(7, 0.0, 320, 240).with_visitor(script);
    let mut d = PresenceDetector::new(PresenceConfig::default());
    // Two rounds: 4 + 1.5 + 8 + 1.5 = 15 s each.
    let period = 4.0 + 2.0 * WALK_S + 8.0;
    // Two rounds and the leave_after_s of the second.
    let frames = (0..((2.0 * period + 2.5) * FPS) as usize).map(|i| scene.render((i as f64 / FPS) as f32));
    let seen = run(&mut d, frames, 0.0);
    let kinds = events(&seen);
    let entered: Vec<f64> = seen.iter().filter(|(_, e)| *e == PresenceEvent::Entered).map(|(t, _)| *t).collect();
    let left: Vec<f64> = seen.iter().filter(|(_, e)| *e == PresenceEvent::Left).map(|(t, _)| *t).collect();
    assert_eq!(entered.len(), 2, "{seen:?}");
    assert_eq!(left.len(), 2, "{seen:?}");
    for round in 0..2 {
        let start = round as f64 * period;
        // Enters while walking in (4.0 .. 5.5 s into the round).
        assert!((start + 4.0..start + 5.6).contains(&entered[round]), "round {round}: {seen:?}");
        // Leaves after walking out (ends at 15 s) plus leave_after_s.
        assert!((start + 14.0..start + 17.5).contains(&left[round]), "round {round}: {seen:?}");
    }
    // Holds still during the still part (5.5 .. 9.5 s): Still arrives within it.
    let first_still = seen.iter().find(|(_, e)| *e == PresenceEvent::Still).expect("still").0;
    assert!((5.5..8.5).contains(&first_still), "{seen:?}");
    assert_eq!(kinds[0], PresenceEvent::Entered);
    // The script is deterministic: same seed, same positions; another seed, another place.
    assert_eq!(figure_position(script, 7, 6.0), figure_position(script, 7, 6.0));
    assert_eq!(figure_position(script, 7, 1.0), None, "away at the start");
}

/// The demo's visitor (the shipped fallback source: seed 7, 640x480, 8 s away, 8 s still, a
/// 90 s stay, the demo's face) through the face detector and the presence detector, frame by
/// frame at 15 fps in the capture thread's order, on a simulated clock.
#[test]
fn the_demos_visitor_after_a_long_stay_is_seen_to_leave_and_the_next_one_is_noticed() {
    use gallery_painter::capture::faces::{FaceDetectionConfig, FaceDetector, FaceModel, FaceWatch};
    use std::time::{Duration, Instant};
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let gallery_painter::config::SourceConfig::Synthetic { seed, width, height, visitor, face, .. } =
        gallery_painter::config::SourceConfig::demo()
    else {
        unreachable!("the demo is the synthetic scene")
    };
    let portrait = image::open(root.join(face.unwrap())).unwrap().to_rgb8();
    let scene = SyntheticScene::new(seed, 0.0, width, height)
        .with_visitor(visitor)
        .with_face(Some(std::sync::Arc::new(portrait)));
    let cfg = FaceDetectionConfig::default();
    let mut faces = FaceWatch::new(FaceDetector::new(&FaceModel::for_config(&root, &cfg).unwrap(), cfg));
    let mut d = PresenceDetector::new(PresenceConfig::default());
    let start = Instant::now();
    let mut seen = Vec::new();
    for i in 0..(115.0 * FPS) as usize {
        let t = i as f64 / FPS;
        let img = scene.render(t as f32);
        let found = faces.look(&img, start + Duration::from_secs_f64(t));
        for e in d.update_with_faces(&img, t, Some(found)) {
            seen.push((t, e, figure_position(visitor, seed, t).is_some()));
        }
    }
    let at = |kind: PresenceEvent| -> Vec<f64> { seen.iter().filter(|s| s.1 == kind).map(|s| s.0).collect() };
    // Walks in at 8 s; walks out from 98 to 99.5 s; the next walks in at 107.5 s.
    let (entered, left) = (at(PresenceEvent::Entered), at(PresenceEvent::Left));
    assert_eq!(entered.len(), 2, "{seen:?}");
    assert!((8.0..9.5).contains(&entered[0]) && (107.5..110.0).contains(&entered[1]), "{seen:?}");
    assert_eq!(left.len(), 1, "{seen:?}");
    assert!((99.5..106.0).contains(&left[0]), "the visitor's leaving was seen at {}: {seen:?}", left[0]);
    // Holding still is only ever seen with somebody in the picture: an empty room starts no countdown.
    let empty: Vec<_> = seen.iter().filter(|s| s.1 == PresenceEvent::Still && !s.2).collect();
    assert!(empty.is_empty(), "still with nobody in view: {empty:?}");
}
