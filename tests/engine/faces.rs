//! Faces: both detectors (MTCNN, SeetaFace) find the face of a real portrait (the project's public-domain fixture)
//! and none in a landscape; presence is held by a face (across misses shorter than
//! `face_hold_s`) and not started by light; face-aware painting keeps the face closer to the
//! photo, only there, and is the plain objective at gains of 1; face maps follow the face.

use crate::common;

use std::sync::Arc;

use gallery_painter::capture::faces::{Detector, FaceDetectionConfig, FaceDetector, FaceModel, FacesSeen};
use gallery_painter::capture::presence::{PresenceConfig, PresenceDetector, PresenceEvent};
use gallery_painter::capture::synthetic::{SyntheticScene, SyntheticVisitor};
use gallery_painter::engine::faces::face_map;
use gallery_painter::engine::{FaceBox, FaceWeights, Refiner, StyleImage, StyleParams};
use image::{Rgb, RgbImage};

fn model() -> FaceModel {
    FaceModel::for_config(&common::root(), &FaceDetectionConfig::default()).unwrap()
}

/// The installation's detector.
fn detector() -> FaceDetector {
    FaceDetector::new(&model(), FaceDetectionConfig::default())
}

fn seeta() -> FaceDetector {
    let cfg = FaceDetectionConfig { detector: Detector::Seeta, ..FaceDetectionConfig::default() };
    FaceDetector::new(&FaceModel::for_config(&common::root(), &cfg).unwrap(), cfg)
}

fn portrait() -> Arc<RgbImage> {
    Arc::new(image::open(common::root().join("assets/faces/hopper.png")).unwrap().to_rgb8())
}

/// The portrait at twice its size in the middle of a larger, plain frame (a visitor at the
/// kiosk's distance: a face of ~100 px in a 640 px frame).
fn portrait_in_frame(w: u32, h: u32) -> RgbImage {
    let p = image::imageops::resize(&*portrait(), 256, 256, image::imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(w, h, Rgb([120, 130, 140]));
    image::imageops::overlay(&mut frame, &p, ((w - p.width()) / 2) as i64, ((h - p.height()) / 3) as i64);
    frame
}

#[test]
fn both_detectors_find_the_portraits_face_where_it_is_and_none_in_a_landscape() {
    for (name, mut d) in [("mtcnn", detector()), ("seeta", seeta())] {
        eprintln!("{name}");
        finds_the_portrait_and_no_face_in_a_landscape(&mut d);
    }
}

fn finds_the_portrait_and_no_face_in_a_landscape(d: &mut FaceDetector) {
    let faces = d.detect(&portrait());
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = faces[0];
    // Hopper's face is in the upper middle of the 128 px portrait.
    let (cx, cy) = (f.x + f.w / 2.0, f.y + f.h / 2.0);
    assert!((0.35..0.65).contains(&cx) && (0.2..0.6).contains(&cy), "{f:?}");
    assert!((0.2..0.7).contains(&f.w), "{f:?}");

    let framed = d.detect(&portrait_in_frame(640, 480));
    assert_eq!(framed.len(), 1, "{framed:?}");

    let away = SyntheticVisitor::Scripted { away_s: 100.0, still_s: 1.0, stay_s: 1.0 };
    for seed in [1, 7, 42] {
        let landscape = SyntheticScene::new(seed, 0.0, 640, 480).with_visitor(away).render(1.0);
        assert!(d.detect(&landscape).is_empty(), "a face in landscape {seed}");
    }
}

#[test]
fn the_synthetic_visitor_wearing_the_portrait_is_seen_by_the_detector_and_a_faceless_one_is_not() {
    let script = SyntheticVisitor::Scripted { away_s: 2.0, still_s: 6.0, stay_s: 6.0 };
    let with_face = SyntheticScene::new(7, 0.0, 640, 480).with_visitor(script).with_face(Some(portrait()));
    let faceless = SyntheticScene::new(7, 0.0, 640, 480).with_visitor(script);
    let mut d = detector();
    // t = 5 s: walked in (2 s away + 1.5 s walk) and holding still.
    assert_eq!(d.detect(&with_face.render(5.0)).len(), 1);
    assert!(d.detect(&with_face.render(1.0)).is_empty(), "nobody there yet");
    assert!(d.detect(&faceless.render(5.0)).is_empty());
}

#[test]
fn the_face_map_is_one_inside_the_face_zero_far_away_and_soft_between() {
    let face = FaceBox { x: 0.4, y: 0.3, w: 0.2, h: 0.2, score: 5.0 };
    let weights = FaceWeights { grow: 1.0, feather: 0.5, ..FaceWeights::default() };
    let (w, h) = (100, 100);
    let map = face_map(&[face], w, h, &weights);
    let at = |x: usize, y: usize| map[y * w + x];
    assert_eq!(at(50, 39), 1.0, "the face's centre");
    assert_eq!(at(5, 5), 0.0, "the far corner");
    // Along a row through the centre, the map falls monotonically to 0 past the rim.
    let row: Vec<f32> = (50..100).map(|x| at(x, 39)).collect();
    assert!(row.windows(2).all(|p| p[1] <= p[0]), "{row:?}");
    assert!(row.iter().any(|v| *v > 0.05 && *v < 0.95), "no soft edge: {row:?}");
    // No face: nothing anywhere.
    assert!(face_map(&[], w, h, &weights).iter().all(|v| *v == 0.0));
}

/// Feeds `seconds` of `render(t)` at `fps` to a presence detector, with the face detector
/// run every 0.2 s as the capture thread does; returns the events with their times.
fn watch_at(
    fps: f64,
    presence: &mut PresenceDetector,
    faces: Option<&mut FaceDetector>,
    seconds: f64,
    render: impl Fn(f64) -> RgbImage,
) -> Vec<(f64, PresenceEvent)> {
    let mut faces = faces;
    let mut latest: Vec<FaceBox> = Vec::new();
    let mut out = Vec::new();
    let every = (0.2 * fps).round().max(1.0) as usize;
    for i in 0..(seconds * fps) as usize {
        let t = i as f64 / fps;
        let frame = render(t);
        let seen = match faces.as_deref_mut() {
            Some(d) => {
                let fresh = i % every == 0;
                if fresh {
                    latest = d.detect(&frame);
                }
                Some(FacesSeen { faces: &latest, fresh })
            }
            None => None,
        };
        for e in presence.update_with_faces(&frame, t, seen) {
            out.push((t, e));
        }
    }
    out
}

/// [`watch_at`] a camera's 15 fps.
fn watch(
    presence: &mut PresenceDetector,
    faces: Option<&mut FaceDetector>,
    seconds: f64,
    render: impl Fn(f64) -> RgbImage,
) -> Vec<(f64, PresenceEvent)> {
    watch_at(15.0, presence, faces, seconds, render)
}

/// A textured room; `patch` (0..1) brightens a sunlit square on the right.
fn room(w: u32, h: u32, patch: f32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let base = 40.0 + 100.0 * (y as f32 / h as f32) + 25.0 * ((x as f32 * 0.15).sin());
        let sun = if x > w / 2 && y > h / 3 && x < w * 9 / 10 { 1.0 + 0.9 * patch } else { 1.0 };
        let v = (base * sun).clamp(0.0, 255.0) as u8;
        Rgb([v, (v as f32 * 0.9) as u8, (v as f32 * 0.8) as u8])
    })
}

#[test]
fn a_sun_patch_with_no_face_starts_no_countdown_and_fades_but_without_faces_it_counted_down() {
    // The patch grows in over two seconds, then stays.
    let light = |t: f64| room(320, 240, ((t - 3.0) / 2.0).clamp(0.0, 1.0) as f32);
    let mut plain = PresenceDetector::new(PresenceConfig::default());
    let before = watch(&mut plain, None, 60.0, light);
    assert!(before.iter().any(|(_, e)| *e == PresenceEvent::Still), "the old detector's false start: {before:?}");
    let mut with_faces = PresenceDetector::new(PresenceConfig::default());
    let mut d = detector();
    let after = watch(&mut with_faces, Some(&mut d), 60.0, light);
    eprintln!("sun patch, foreground only: {before:?}\nsun patch, with faces: {after:?}");
    assert!(!after.iter().any(|(_, e)| *e == PresenceEvent::Still), "a countdown for a sun patch: {after:?}");
    // Big enough to look like someone close, it may be noticed; with no face it fades.
    assert!(!with_faces.reading().present, "the sun patch is still a visitor after a minute: {after:?}");
}

#[test]
fn a_visitor_who_holds_still_for_minutes_stays_present_with_faces_and_fades_without() {
    // Walks in at 2 s, then stands still (the synthetic figure holds still for still_s).
    let script = SyntheticVisitor::Scripted { away_s: 2.0, still_s: 1000.0, stay_s: 1000.0 };
    let scene = SyntheticScene::new(7, 0.0, 320, 240).with_visitor(script).with_face(Some(portrait()));
    // A slow camera (5 fps): ten minutes in fewer frames; every frame gets a detection.
    let seconds = 600.0;
    let mut with_faces = PresenceDetector::new(PresenceConfig::default());
    let mut d = detector();
    let after = watch_at(5.0, &mut with_faces, Some(&mut d), seconds, |t| scene.render(t as f32));
    let kinds: Vec<PresenceEvent> = after.iter().map(|(_, e)| *e).collect();
    assert_eq!(kinds, [PresenceEvent::Entered, PresenceEvent::Still], "{after:?}");
    assert!(with_faces.reading().present);

    // The same ten minutes without the face detector: the visitor fades into the background.
    let mut plain = PresenceDetector::new(PresenceConfig::default());
    let before = watch_at(5.0, &mut plain, None, seconds, |t| scene.render(t as f32));
    eprintln!("still visitor, with faces: {after:?}\nstill visitor, foreground only: {before:?}");
    assert!(before.iter().any(|(_, e)| *e == PresenceEvent::Left), "the old detector kept them: {before:?}");
}

#[test]
fn a_visitor_who_turns_away_but_stays_is_kept_and_one_who_leaves_is_let_go() {
    let script = SyntheticVisitor::Scripted { away_s: 2.0, still_s: 400.0, stay_s: 400.0 };
    let facing = SyntheticScene::new(3, 0.0, 320, 240).with_visitor(script).with_face(Some(portrait()));
    // Turned away: the same figure with a plain head (no face to detect), still standing.
    let turned = SyntheticScene::new(3, 0.0, 320, 240).with_visitor(script);
    let empty = SyntheticScene::new(3, 0.0, 320, 240).with_visitor(SyntheticVisitor::Scripted {
        away_s: 1e6,
        still_s: 1.0,
        stay_s: 1.0,
    });
    let mut presence = PresenceDetector::new(PresenceConfig::default());
    let mut d = detector();
    let render = |t: f64| match t {
        t if t < 12.0 => facing.render(t as f32),
        t if t < 30.0 => turned.render(t as f32),
        t => empty.render(t as f32),
    };
    let events = watch(&mut presence, Some(&mut d), 40.0, render);
    eprintln!("turned away at 12 s, gone at 30 s: {events:?}");
    let left: Vec<f64> = events.iter().filter(|(_, e)| *e == PresenceEvent::Left).map(|(t, _)| *t).collect();
    assert_eq!(events.first().map(|(_, e)| *e), Some(PresenceEvent::Entered), "{events:?}");
    assert_eq!(left.len(), 1, "{events:?}");
    assert!(left[0] >= 30.0 && left[0] < 36.0, "left at {} (the visitor went at 30 s): {events:?}", left[0]);
}

/// A visitor standing still, with the face detector seeing their face only when `seen(t)`
/// (a detector that misses now and then: light, angle); detections every 0.2 s at `fps`.
fn watch_with_misses(
    presence: &mut PresenceDetector,
    seconds: f64,
    seen: impl Fn(f64) -> bool,
) -> Vec<(f64, PresenceEvent)> {
    let script = SyntheticVisitor::Scripted { away_s: 2.0, still_s: 1e6, stay_s: 1e6 };
    let scene = SyntheticScene::new(7, 0.0, 320, 240).with_visitor(script).with_face(Some(portrait()));
    // Standing still: the face is where the detector finds it once, and stays there.
    let face = detector().detect(&scene.render(5.0));
    assert_eq!(face.len(), 1);
    let fps = 5.0;
    let mut out = Vec::new();
    for i in 0..(seconds * fps) as usize {
        let t = i as f64 / fps;
        let frame = scene.render(t as f32);
        // In view from 2 s; the detector's answer as the capture thread has it.
        let latest = if t >= 3.0 && seen(t) { face.clone() } else { Vec::new() };
        for e in presence.update_with_faces(&frame, t, Some(FacesSeen { faces: &latest, fresh: true })) {
            out.push((t, e));
        }
    }
    out
}

#[test]
fn a_face_missed_now_and_then_is_held_for_face_hold_s_and_a_shorter_hold_lets_the_visitor_fade() {
    // Seen one second in every three: misses of two seconds, within the default 3 s hold.
    let seen = |t: f64| t % 3.0 < 1.0;
    let minutes = 900.0;
    let mut held = PresenceDetector::new(PresenceConfig { face_hold_s: 3.0, ..PresenceConfig::default() });
    let events = watch_with_misses(&mut held, minutes, seen);
    let kinds: Vec<PresenceEvent> = events.iter().map(|(_, e)| *e).collect();
    assert_eq!(kinds, [PresenceEvent::Entered, PresenceEvent::Still], "{events:?}");
    assert!(held.reading().present, "{events:?}");
    // A hold shorter than the misses: each miss lets the still visitor fade a little into the
    // background, until (after ~13 minutes here) the kiosk sees them move and hold still by
    // turns, a countdown restarted every few seconds.
    let mut short = PresenceDetector::new(PresenceConfig { face_hold_s: 0.5, ..PresenceConfig::default() });
    let events = watch_with_misses(&mut short, minutes, seen);
    eprintln!("misses of 2 s with a 0.5 s hold: {:?}", &events[..events.len().min(6)]);
    let later = events.iter().filter(|(t, e)| *t > 60.0 && matches!(e, PresenceEvent::Moved | PresenceEvent::Left));
    assert!(later.count() > 0, "the hold made no difference: {events:?}");
}

fn style(name: &str) -> StyleImage {
    StyleImage { id: name.into(), image: Arc::new(common::style(name)), weight: 1.0 }
}

/// Mean absolute difference between two images inside a box (fractions).
fn diff_in(a: &RgbImage, b: &RgbImage, f: &FaceBox) -> f64 {
    diff_where(a, b, f, true)
}

/// ... or outside it, away from its feathered edge (the box grown by half).
fn diff_outside(a: &RgbImage, b: &RgbImage, f: &FaceBox) -> f64 {
    let grown = FaceBox { x: f.x - f.w / 2.0, y: f.y - f.h / 2.0, w: f.w * 2.0, h: f.h * 2.0, ..*f };
    diff_where(a, b, &grown, false)
}

fn diff_where(a: &RgbImage, b: &RgbImage, f: &FaceBox, inside: bool) -> f64 {
    let (x, y, w, h) = f.pixels(a.width(), a.height());
    let within = |px: u32, py: u32| px as f32 >= x && (px as f32) < x + w && py as f32 >= y && (py as f32) < y + h;
    let (mut sum, mut n) = (0.0, 0.0);
    for py in 0..a.height() {
        for px in 0..a.width() {
            if within(px, py) != inside {
                continue;
            }
            for c in 0..3 {
                sum += (a.get_pixel(px, py)[c] as f64 - b.get_pixel(px, py)[c] as f64).abs();
                n += 1.0;
            }
        }
    }
    sum / n
}

fn paint(faces: Vec<FaceBox>, weights: FaceWeights) -> (RgbImage, gallery_painter::engine::LossParts) {
    let params = StyleParams { size: 96, iterations: 15, levels: 1, faces: weights, ..StyleParams::default() };
    let mut p = Refiner::new(common::vgg(), common::cpu(), params).unwrap();
    p.set_content((*portrait()).clone());
    p.set_faces(faces);
    p.set_styles(vec![style("primary_rhythm.png")]).unwrap();
    p.restart(None).unwrap();
    let mut last = Default::default();
    while !p.is_finished() {
        last = p.step().unwrap().losses;
    }
    (p.painting().unwrap(), last)
}

#[test]
fn face_aware_painting_keeps_the_face_closer_to_the_photo_and_gains_of_one_are_the_plain_objective() {
    let faces = detector().detect(&portrait());
    assert_eq!(faces.len(), 1);
    let photo = image::imageops::resize(&*portrait(), 96, 96, image::imageops::FilterType::Triangle);
    let (plain, plain_loss) = paint(Vec::new(), FaceWeights::default());
    let (aware, _) = paint(faces.clone(), FaceWeights { content_gain: 6.0, style_gain: 0.5, ..FaceWeights::default() });
    let (d_plain, d_aware) = (diff_in(&plain, &photo, &faces[0]), diff_in(&aware, &photo, &faces[0]));
    assert!(d_aware < 0.85 * d_plain, "face region vs photo: plain {d_plain:.1}, face-aware {d_aware:.1}");
    // A local gain, not a global one: away from the face the painting is as far from the
    // photo (as stylised) as the plain one.
    let (o_plain, o_aware) = (diff_outside(&plain, &photo, &faces[0]), diff_outside(&aware, &photo, &faces[0]));
    eprintln!(
        "inside the face: plain {d_plain:.1}, aware {d_aware:.1}; outside: plain {o_plain:.1}, aware {o_aware:.1}"
    );
    assert!(o_aware > 0.9 * o_plain, "outside the face: plain {o_plain:.1}, face-aware {o_aware:.1}");

    let (ones, ones_loss) = paint(faces, FaceWeights { content_gain: 1.0, style_gain: 1.0, ..FaceWeights::default() });
    assert_eq!(ones.as_raw(), plain.as_raw(), "gains of 1 must paint exactly the plain painting");
    assert_eq!(ones_loss, plain_loss);
}

#[test]
fn face_maps_follow_the_faces_across_levels_and_live_frames() {
    // Two levels (the map is made for each size) and Live frames whose face moves.
    let params = StyleParams { size: 64, iterations: 3, levels: 2, ..StyleParams::default() };
    let script = SyntheticVisitor::Scripted { away_s: 0.0, still_s: 0.5, stay_s: 20.0 };
    let scene = SyntheticScene::new(5, 0.0, 320, 240).with_visitor(script).with_face(Some(portrait()));
    let mut d = detector();
    let first = scene.render(3.0);
    let faces = d.detect(&first);
    assert_eq!(faces.len(), 1);
    // `p` follows the face; its twin `stale` keeps the first frame's map: the same work else.
    let start = || {
        let mut p = Refiner::new(common::vgg(), common::cpu(), params.clone()).unwrap();
        p.set_styles(vec![style("ink_waves.png")]).unwrap();
        p.set_content(first.clone());
        p.set_faces(faces.clone());
        p.restart(None).unwrap();
        while !p.is_finished() {
            p.step().unwrap();
        }
        p
    };
    let (mut p, mut stale) = (start(), start());
    let live = gallery_painter::engine::LiveSettings::default();
    let mut moved = false;
    let mut differs: f64 = 0.0;
    for k in 1..=4 {
        // Looking around: the figure (and its face) moves between frames.
        let frame = scene.render(3.0 + k as f32 * 0.6);
        let now = d.detect(&frame);
        assert_eq!(now.len(), 1, "frame {k}");
        let moved_now = (now[0].x - faces[0].x).abs() > 0.01;
        moved |= moved_now;
        p.set_faces(now);
        p.follow(frame.clone(), &live).unwrap();
        stale.set_faces(faces.clone());
        stale.follow(frame, &live).unwrap();
        for _ in 0..2 {
            let (losses, old) = (p.step().unwrap().losses, stale.step().unwrap().losses);
            assert!(losses.total.is_finite() && losses.content > 0.0, "frame {k}: {losses:?}");
            if moved_now {
                differs = differs.max((losses.content - old.content).abs() / old.content.abs().max(1e-9));
            }
        }
    }
    assert!(moved, "the face should have moved between the frames");
    // A map that stayed where the face was would give the twin's losses.
    assert!(differs > 1e-3, "the content loss is the stale map's (relative difference {differs:e})");
    assert_eq!(p.painting().unwrap().dimensions(), (64, 48));
}

#[test]
fn a_visitor_noticed_by_their_face_at_the_edge_and_then_missed_is_still_seen_leaving() {
    // Walks in from the side at 2 s; the detector sees the face as they come in (still at the
    // edge of the picture), then misses it for seconds while they stand there; they walk out
    // at about 12 s and stay away.
    let script = SyntheticVisitor::Scripted { away_s: 2.0, still_s: 6.0, stay_s: 9.0 };
    let scene = SyntheticScene::new(7, 0.0, 320, 240).with_visitor(script).with_face(Some(portrait()));
    let empty = SyntheticScene::new(7, 0.0, 320, 240).with_visitor(SyntheticVisitor::Scripted {
        away_s: 1e6,
        still_s: 1.0,
        stay_s: 1.0,
    });
    let face = vec![FaceBox { x: 0.02, y: 0.2, w: 0.15, h: 0.2, score: 5.0 }];
    let mut presence = PresenceDetector::new(PresenceConfig::default());
    let fps = 10.0;
    let mut events = Vec::new();
    for i in 0..(40.0 * fps) as usize {
        let t = i as f64 / fps;
        let frame = if t < 14.5 { scene.render(t as f32) } else { empty.render(t as f32) };
        let seen = if (2.3..2.8).contains(&t) { face.clone() } else { Vec::new() };
        for e in presence.update_with_faces(&frame, t, Some(FacesSeen { faces: &seen, fresh: true })) {
            events.push((t, e));
        }
    }
    eprintln!("noticed at the edge, then missed: {events:?}");
    // One visit: noticed, then gone once they walked out (at 12.5-14 s), not while standing.
    let kinds: Vec<(f64, PresenceEvent)> =
        events.iter().filter(|(_, e)| matches!(e, PresenceEvent::Entered | PresenceEvent::Left)).cloned().collect();
    assert_eq!(kinds.len(), 2, "one visit, entered and left: {events:?}");
    assert_eq!(kinds[0].1, PresenceEvent::Entered);
    assert!(kinds[1].1 == PresenceEvent::Left && (12.5..20.0).contains(&kinds[1].0), "{events:?}");
    assert!(!presence.reading().present, "{events:?}");
}

/// `img` turned by `degrees` about its centre (nearest pixel; outside it, `fill`).
fn turned(img: &RgbImage, degrees: f32, fill: Rgb<u8>) -> RgbImage {
    let (w, h) = img.dimensions();
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            fill
        }
    })
}

#[test]
fn the_installations_detector_finds_a_visitor_whose_head_is_tilted() {
    // A visitor leaning their head 25 degrees, at the kiosk's distance.
    let frame = turned(&portrait_in_frame(640, 480), 25.0, Rgb([120, 130, 140]));
    let faces = detector().detect(&frame);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let found = faces[0].pixels(640, 480);
    // The face as the set marks it on the upright portrait (x 43, y 28, 41 x 51 of 128 px),
    // where portrait_in_frame puts it (256 px at 192, 74), and where the turn takes its centre.
    let (w, h) = (41.0 * 2.0, 51.0 * 2.0);
    let (cx, cy) = (192.0 + 2.0 * (43.0 + 41.0 / 2.0), 74.0 + 2.0 * (28.0 + 51.0 / 2.0));
    let (s, c) = 25f32.to_radians().sin_cos();
    let (dx, dy) = (cx - 320.0, cy - 240.0);
    let (tx, ty) = (320.0 + c * dx - s * dy, 240.0 + s * dx + c * dy);
    let marked = (tx - w / 2.0, ty - h / 2.0, w, h);
    let overlap = gallery_painter::capture::face_set::iou(marked, found);
    eprintln!("tilted: found {found:?}, marked {marked:?}, IoU {overlap:.2}");
    // Where it is and how large: a box a third too small or too large fails.
    assert!(overlap >= 0.7, "the box {found:?} overlaps the face {marked:?} by {overlap:.2} only");
}

/// The installation's detector on the face set's pictures that the project can fetch (the
/// registries' sample pictures, scripts/fetch-face-set.sh, which scripts/test.sh runs) and the
/// shipped portrait: the recall that docs/visitors.md quotes, held to a floor.
#[test]
fn the_installations_detector_finds_the_face_sets_faces_with_a_recall_floor() {
    use gallery_painter::capture::face_set::{FaceSet, PictureOrigin, score};
    let root = common::root();
    let cache = root.join(".cache/face-set");
    assert!(
        cache.join("face-api").is_dir(),
        "the face set is not fetched\n  fix: bash scripts/fetch-face-set.sh (scripts/test.sh runs it)"
    );
    let set = FaceSet::load(&root.join("assets/faces/detector-set.ron")).unwrap();
    let mut d = detector();
    let (mut faces, mut found, mut false_faces, mut pictures) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    for p in set.pictures.iter().filter(|p| p.from != PictureOrigin::Shared) {
        let path = if p.from == PictureOrigin::Repo { root.join(&p.file) } else { cache.join(&p.file) };
        let img = gallery_painter::engine::imageio::load_rgb(&path).unwrap();
        let boxes: Vec<_> = d.detect(&img).iter().map(|f| f.pixels(img.width(), img.height())).collect();
        let (hit, extra) = score(&p.faces, &boxes);
        pictures += 1;
        faces += hit.len();
        found += hit.iter().filter(|h| **h).count();
        false_faces += extra;
        if hit.iter().any(|h| !h) || extra > 0 {
            missed.push(format!("{}: {hit:?} +{extra} {boxes:?}", p.file.display()));
        }
    }
    let recall = found as f64 / faces as f64;
    eprintln!("{found}/{faces} faces in {pictures} pictures, {false_faces} false: {missed:#?}");
    assert!(pictures >= 15 && faces >= 20, "{pictures} pictures, {faces} faces");
    assert!(recall >= 0.9, "recall {recall:.2} ({found}/{faces}): {missed:#?}");
    assert!(false_faces <= 1, "{false_faces} false faces: {missed:#?}");
}

#[test]
fn the_face_set_reads_and_scores_the_shipped_portrait() {
    use gallery_painter::capture::face_set::{FaceSet, PictureOrigin, score};
    let set = FaceSet::load(&common::root().join("assets/faces/detector-set.ron")).unwrap();
    assert!(set.pictures.len() >= 20, "{} pictures", set.pictures.len());
    let shipped: Vec<_> = set.pictures.iter().filter(|p| p.from == PictureOrigin::Repo).collect();
    assert!(!shipped.is_empty());
    for p in shipped {
        let img = image::open(common::root().join(&p.file)).unwrap().to_rgb8();
        let found: Vec<_> = detector().detect(&img).iter().map(|f| f.pixels(img.width(), img.height())).collect();
        let (hit, false_faces) = score(&p.faces, &found);
        assert!(hit.iter().all(|h| *h), "{}: {hit:?} {found:?}", p.file.display());
        assert_eq!(false_faces, 0, "{}", p.file.display());
    }
    // A broken set names its line.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("set.ron");
    std::fs::write(&bad, "(\n  pictures: [\n    (file: \"a.png\", from: Attic, source: \"\", faces: []),\n  ],\n)\n")
        .unwrap();
    let e = FaceSet::load(&bad).unwrap_err().to_string();
    assert!(e.contains("set.ron:3:") && e.contains("fix:"), "{e}");
}
