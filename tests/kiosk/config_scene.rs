//! Config and scene files: round trips, the shipped files, and error messages that say
//! where and how to fix.

use crate::common;

use std::path::Path;

use gallery_painter::config::{InstallationConfig, parse_ron, to_ron_string};
use gallery_painter::engine::StyleParams;
use gallery_painter::scene::{OpeningHours, Scene};

#[test]
fn config_round_trips_through_ron() {
    let cfg = InstallationConfig::default();
    let text = to_ron_string(&cfg);
    let back: InstallationConfig = parse_ron(&text, Path::new("roundtrip.ron")).unwrap();
    assert_eq!(cfg, back);
}

#[test]
fn shipped_config_documents_the_defaults() {
    // config/installation.ron lists every setting with its default: keep them in step.
    let shipped = InstallationConfig::load(&common::root().join("config/installation.ron")).unwrap();
    assert_eq!(shipped, InstallationConfig::default());
}

#[test]
fn shipped_scenes_load() {
    let root = common::root();
    for name in ["scenes/default.ron", "scenes/evening-blends.ron"] {
        let scene = Scene::load(&root.join(name), &root, &StyleParams::default()).unwrap();
        assert!(scene.entries.len() >= 3, "{name}");
        let text = to_ron_string(&scene);
        let back: Scene = parse_ron(&text, Path::new(name)).unwrap();
        assert_eq!(scene, back);
    }
}

#[test]
fn unknown_field_names_file_line_column_and_valid_fields() {
    let text = "(\n    display: (\n        fullscren: true,\n    ),\n)\n";
    let err = parse_ron::<InstallationConfig>(text, Path::new("config/installation.ron")).unwrap_err();
    let msg = err.to_string();
    assert_eq!((err.line, err.col), (3, 9), "{msg}");
    assert!(msg.starts_with("config/installation.ron:3:9:"), "{msg}");
    assert!(msg.contains("fullscren") && msg.contains("fullscreen") && msg.contains("fix:"), "{msg}");
}

#[test]
fn wrong_type_and_syntax_errors_are_located() {
    let err = parse_ron::<InstallationConfig>("(\n  display: (width: \"wide\"),\n)", Path::new("c.ron")).unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    assert!(err.to_string().contains("fix:"), "{err}");
    let err = parse_ron::<InstallationConfig>("(\n  engine: (threads: 2,\n", Path::new("c.ron")).unwrap_err();
    assert!(err.line >= 2, "{err}");
    let err = InstallationConfig::load(Path::new("/nonexistent/installation.ron")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/installation.ron: cannot read"), "{err}");
}

#[test]
fn invalid_values_are_rejected_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.ron");
    std::fs::write(&p, "(kiosk: (admin_exit_chord: [\"KeyQQ\"]))").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(err.contains("KeyQQ") && err.contains("fix:"), "{err}");
    std::fs::write(&p, "(engine: (style: (size: 5)))").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(err.contains("size 5"), "{err}");
    // A synthetic source at 0 fps would run unpaced and take a whole core.
    std::fs::write(&p, "(source: Synthetic(seed: 1, fps: 0.0, width: 64, height: 48))").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(err.contains("Synthetic fps 0") && err.contains("fix: use e.g. fps: 15.0"), "{err}");
    // Presence hysteresis must leave a gap, or lighting flicker toggles visitors.
    std::fs::write(&p, "(presence: (enter_area: 0.02, leave_area: 0.03))").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(err.contains("leave_area 0.03 must be below enter_area 0.02") && err.contains("fix:"), "{err}");
    // Auto capture needs someone to notice the visitor.
    std::fs::write(&p, "(presence: (enabled: false))").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(
        err.contains("journey.capture is auto but presence is disabled") && err.contains("capture: touch"),
        "{err}"
    );
    std::fs::write(&p, "(presence: (enabled: false), journey: (capture: touch))").unwrap();
    InstallationConfig::load(&p).unwrap();
    // A reach zone too small for the picker, the buttons and the prompts, on its line.
    std::fs::write(&p, "(\n  kiosk: (\n    reach: (bottom_fraction: 0.1),\n  ),\n)\n").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err();
    assert!(err.message.contains("bottom_fraction 0.1 must be within 0.3..1.0"), "{err}");
    assert!(err.to_string().contains("fix: use e.g. reach: (bottom_fraction: 0.5)"), "{err}");
    assert_eq!(err.line, 3, "{err}");
    std::fs::write(&p, "(kiosk: (reach: (bottom_fraction: 0.5), high_contrast: true))").unwrap();
    let cfg = InstallationConfig::load(&p).unwrap();
    assert_eq!(cfg.kiosk.reach.map(|r| r.bottom_fraction), Some(0.5));
}

#[test]
fn a_settings_error_names_its_field_as_data_and_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.ron");
    // The message starts with "at least", not with the field's name: the field comes from
    // the check itself (the line was 0 when it was read back from the message).
    std::fs::write(
        &p,
        "(\n  engine: (\n    style: (\n      content_layers: [],\n      style_layers: [],\n    ),\n  ),\n)\n",
    )
    .unwrap();
    let err = InstallationConfig::load(&p).unwrap_err();
    assert!(err.message.contains("at least one content or style layer"), "{err}");
    assert_eq!(err.line, 4, "{err}");
    std::fs::write(&p, "(\n  engine: (\n    style: (\n      faces: (grow: 9.0),\n    ),\n  ),\n)\n").unwrap();
    let err = InstallationConfig::load(&p).unwrap_err();
    assert!(err.message.contains("faces.grow 9"), "{err}");
    assert_eq!(err.line, 4, "{err}");
}

#[test]
fn scene_with_missing_style_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.ron");
    std::fs::write(
        &p,
        "(\n  name: \"x\",\n  entries: [\n    (\n      styles: [(path: \"assets/styles/missing.png\")],\n      title: \"Gone\",\n    ),\n  ],\n)\n",
    )
    .unwrap();
    let err = Scene::load(&p, &common::root(), &StyleParams::default()).unwrap_err();
    assert_eq!(err.line, 5, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("missing.png") && msg.contains("does not exist") && msg.contains("fix:"), "{msg}");
}

#[test]
fn a_style_image_that_does_not_decode_is_refused_by_the_scene_check_with_the_line_and_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::root();
    // A scan cut short by a failed copy: the PNG header is intact, the pixels are not.
    let good = std::fs::read(root.join("assets/styles/ink_waves.png")).unwrap();
    let truncated = dir.path().join("truncated.png");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    // A text file with an image's name.
    let mislabelled = dir.path().join("notes.jpg");
    std::fs::write(&mislabelled, "scan pending").unwrap();
    for (bad, want) in [(&truncated, "truncated.png"), (&mislabelled, "notes.jpg")] {
        let p = dir.path().join("s.ron");
        let text = format!(
            "(\n  name: \"x\",\n  entries: [\n    (\n      styles: [(path: \"{}\")],\n      title: \"Broken\",\n    ),\n  ],\n)\n",
            bad.display()
        );
        std::fs::write(&p, text).unwrap();
        let err = Scene::load(&p, &root, &StyleParams::default()).unwrap_err();
        assert_eq!(err.line, 5, "{err}");
        let msg = err.to_string();
        assert!(msg.contains(want) && msg.contains("cannot be used") && msg.contains("fix:"), "{msg}");
    }
    // The same scene with a good image passes (and a second check reads only the file's date).
    let p = dir.path().join("ok.ron");
    let text = "(name: \"x\", entries: [(styles: [(path: \"assets/styles/ink_waves.png\")], title: \"Fine\")])";
    std::fs::write(&p, text).unwrap();
    Scene::load(&p, &root, &StyleParams::default()).unwrap();
    Scene::load(&p, &root, &StyleParams::default()).unwrap();
}

#[test]
fn an_image_claiming_a_huge_size_is_refused_from_its_header() {
    // A few hundred bytes that claim 20000x20000 px: refused before memory is taken.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.png");
    let crc32 = |data: &[u8]| {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    };
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(20_000u32.to_be_bytes());
    ihdr.extend(20_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(13u32.to_be_bytes());
    bytes.extend(&ihdr);
    bytes.extend(crc32(&ihdr).to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let started = std::time::Instant::now();
    let err = gallery_painter::engine::imageio::load_rgb(&path).unwrap_err().to_string();
    assert!(err.contains("too large") && err.contains("8192"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn opening_hours_including_past_midnight() {
    let h = OpeningHours { open: "09:30".into(), close: "18:00".into(), closed_on: vec!["Mon".into()] };
    h.validate().unwrap();
    let at = |d: &str| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").unwrap();
    assert!(h.is_open(at("2026-11-27 10:00"))); // Friday
    assert!(!h.is_open(at("2026-11-27 09:00")));
    assert!(!h.is_open(at("2026-11-27 18:00")));
    assert!(!h.is_open(at("2026-11-30 12:00"))); // Monday
    let night = OpeningHours { open: "20:00".into(), close: "02:00".into(), closed_on: vec![] };
    assert!(
        night.is_open(at("2026-11-27 23:00"))
            && night.is_open(at("2026-11-28 01:00"))
            && !night.is_open(at("2026-11-28 12:00"))
    );
    assert!(OpeningHours { open: "9h".into(), close: "18:00".into(), closed_on: vec![] }.validate().is_err());
}

/// Values a typo, a paste or a curious technician could put where a number goes.
const EXTREMES: [&str; 18] = [
    "-1",
    "0",
    "1",
    "-0.0",
    "0.5",
    "inf",
    "-inf",
    "NaN",
    "1e308",
    "-1e308",
    "1e-300",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "65536",
    "100000",
    "8193",
    "3.0",
];

/// Byte ranges of every number in a RON text, outside comments, strings and names
/// (`relu4_2` holds no number).
fn number_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            in_string = c != b'"' || bytes[i - 1] == b'\\';
            i += 1;
        } else if c == b'"' {
            in_string = true;
            i += 1;
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if (c.is_ascii_digit() || c == b'-')
            && !(i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
        {
            let start = i;
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'-' || bytes[i] == b'+')
            {
                i += 1;
            }
            if text[start..i].chars().any(|c| c.is_ascii_digit()) {
                spans.push(start..i);
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    spans
}

/// What `run` derives from a validated config before the window opens and in its first
/// frames (the worker's settings, the journey, the kiosk keys, the presence detector on a
/// frame, the synthetic source): none of it may panic.
fn derive_everything(cfg: &InstallationConfig) {
    use gallery_painter::capture::presence::PresenceDetector;
    use gallery_painter::capture::synthetic::SyntheticScene;
    use gallery_painter::config::SourceConfig;
    use gallery_painter::engine::EngineDevice;
    use gallery_painter::painting::WorkerConfig;
    let device = EngineDevice { device: tch::Device::Cpu, precision: cfg.engine.precision, gpu: cfg.engine.gpu };
    let worker = WorkerConfig::from_config(&common::root(), &cfg.engine, device);
    assert!(worker.default_params.total_iterations() >= 1);
    assert!(worker.default_params.level_sizes().iter().all(|s| (32..=4096).contains(s)));
    let style_edge = cfg.engine.style.size as f64 * cfg.engine.style.style_scale;
    assert!(style_edge <= 4096.0, "a {style_edge} px style image passed validation");
    // What a GPU paints instead.
    if let Some(gpu) = cfg.engine.on_gpu {
        for policy in [gallery_painter::config::Policy::Paint, gallery_painter::config::Policy::Live] {
            let p = gpu.apply(&cfg.engine.style, policy);
            assert!(p.total_iterations() >= 1 && p.level_sizes().iter().all(|s| (32..=4096).contains(s)));
            assert!(p.size as f64 * p.style_scale <= 4096.0, "on_gpu: a {} px style image passed", p.size);
        }
    }
    let _ = gallery_painter::app::JourneySettings::new(cfg.journey.clone(), cfg.presence.enabled, false);
    let _ = gallery_painter::app::kiosk_settings(cfg);
    let _ = std::time::Duration::from_secs_f64(cfg.keepsake.command_timeout_s);
    let _ = cfg.console.session_times();
    let mut presence = PresenceDetector::new(cfg.presence.clone());
    let frame = image::RgbImage::from_pixel(64, 48, image::Rgb([90, 90, 90]));
    for t in 0..3 {
        presence.update(&frame, t as f64 * 0.1);
    }
    for source in [&cfg.source, &cfg.fallback] {
        if let SourceConfig::Synthetic { seed, fps, width, height, visitor, .. } = source {
            let _ = SyntheticScene::new(*seed, *fps, *width, *height);
            // The scripted visitor's times, on a small frame.
            let _ = SyntheticScene::new(*seed, 0.0, 32, 24).with_visitor(*visitor).render(5.0);
        }
    }
}

/// Writes the documented config with `edits` (number spans replaced by values) and checks
/// the property: refused with the file, a line and a fix, or accepted and nothing derived
/// from it panics.
fn check_edited_config(original: &str, edits: &[(std::ops::Range<usize>, &str)], dir: &Path) {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    edits.dedup_by_key(|(r, _)| r.start);
    let mut text = original.to_string();
    for (range, value) in &edits {
        text.replace_range(range.clone(), value);
    }
    let path = dir.join("installation.ron");
    std::fs::write(&path, &text).unwrap();
    let described: Vec<String> = edits.iter().map(|(r, v)| format!("{} -> {v}", &original[r.clone()])).collect();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match InstallationConfig::load(&path) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("installation.ron") && msg.contains("fix:"), "{msg}");
        }
        Ok(cfg) => derive_everything(&cfg),
    }));
    if let Err(p) = outcome {
        let why = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
        panic!("edits {described:?} panicked: {}", why.unwrap_or_default());
    }
}

/// Every number of the documented config, alone, replaced by every extreme value; then
/// 600 seeded draws of two to four numbers changed at once (a plain xorshift: the draws are
/// the same on every run, so a failure names its edits and reproduces).
#[test]
fn no_number_in_the_config_can_panic_the_installation() {
    let original = std::fs::read_to_string(common::root().join("config/installation.ron")).unwrap();
    let spans = number_spans(&original);
    let dir = tempfile::tempdir().unwrap();
    for span in &spans {
        for value in EXTREMES {
            check_edited_config(&original, &[(span.clone(), value)], dir.path());
        }
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..600 {
        let k = 2 + next(3);
        let edits: Vec<_> =
            (0..k).map(|_| (spans[next(spans.len())].clone(), EXTREMES[next(EXTREMES.len())])).collect();
        check_edited_config(&original, &edits, dir.path());
    }
}

#[test]
fn the_number_finder_sees_every_number_of_the_config_and_no_name() {
    let text = std::fs::read_to_string(common::root().join("config/installation.ron")).unwrap();
    let spans = number_spans(&text);
    let found: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
    assert!(found.len() > 60, "{found:?}");
    for want in ["256", "40", "0.001", "1000.0", "0.05"] {
        assert!(found.contains(&want), "{want} not found in {found:?}");
    }
    assert!(!found.contains(&"9107"), "numbers in comments are not settings");
    assert!(!found.iter().any(|n| n.contains('_') || n.contains("relu")), "{found:?}");
}

#[test]
fn numbers_that_used_to_panic_or_exhaust_memory_are_refused_with_the_line_and_a_fix() {
    let base = std::fs::read_to_string(common::root().join("config/installation.ron")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let check_all = |edits: &[(&str, &str)], want: &str| {
        let mut text = base.clone();
        for (from, to) in edits {
            assert!(base.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        let from = edits[0].0;
        let path = dir.path().join("installation.ron");
        std::fs::write(&path, text).unwrap();
        let e = InstallationConfig::load(&path).unwrap_err();
        let line = base.lines().position(|l| l.contains(from)).unwrap() + 1;
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(want) && !e.fix.is_empty(), "{e}");
    };
    let check = |from: &str, to: &str, want: &str| check_all(&[(from, to)], want);
    check("hold_finished_s: 8.0", "hold_finished_s: -1", "hold_finished_s -1");
    check("hold_finished_s: 8.0", "hold_finished_s: inf", "hold_finished_s inf");
    check_all(&[("size: 256", "size: 4096"), ("style_scale: 1.0", "style_scale: 4.0")], "16384 px style image");
    check("iterations: 40", "iterations: 4294967295", "iterations 4294967295");
    check("show_recent_paintings: 0", "show_recent_paintings: 1000000", "show_recent_paintings");
    check(
        "fallback: Synthetic(seed: 7, fps: 15.0, width: 640",
        "fallback: Synthetic(seed: 7, fps: 15.0, width: 100000",
        "100000x480",
    );
    check("crossfade_ms: 400", "crossfade_ms: 4000000", "crossfade_ms");
    check("on_gpu: (size: 1536", "on_gpu: (size: 9000", "engine.on_gpu: size 9000");
    check("iterations: 100, live_size", "iterations: 0, live_size", "engine.on_gpu: iterations 0");
    check("snapshot_interval_s: 0.1", "snapshot_interval_s: -1", "snapshot_interval_s -1");
}

#[test]
fn an_artwork_can_set_its_own_face_gains_and_a_bad_one_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.ron");
    let scene = |faces: &str| {
        format!(
            "(\n  name: \"x\",\n  entries: [\n    (\n      styles: [(path: \"assets/styles/ink_waves.png\")],\n      title: \"Ink\",\n      overrides: (faces: {faces}),\n    ),\n  ],\n)\n"
        )
    };
    std::fs::write(&p, scene("(content_gain: 5.0, style_gain: 0.1)")).unwrap();
    let base = StyleParams::default();
    let loaded = Scene::load(&p, &common::root(), &base).unwrap();
    let params = loaded.entries[0].overrides.apply(&base);
    assert_eq!((params.faces.content_gain, params.faces.style_gain), (5.0, 0.1));
    // Unset fields keep the face defaults.
    assert_eq!(params.faces.grow, gallery_painter::engine::FaceWeights::default().grow);
    // `Some((..))`, as plain RON would have it: this project's RON leaves `Some` out.
    std::fs::write(&p, scene("Some((content_gain: 5.0))")).unwrap();
    let msg = Scene::load(&p, &common::root(), &base).unwrap_err().to_string();
    assert!(msg.contains("s.ron:7:") && msg.contains("leave `Some` out"), "{msg}");
    std::fs::write(&p, scene("(content_gain: 5.0, style_gain: 0.0)")).unwrap();
    let err = Scene::load(&p, &common::root(), &base).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("faces.style_gain 0") && msg.contains("fix:"), "{msg}");
    assert_eq!(err.line, 7, "{msg}");
}

#[test]
fn visitor_texts_moved_to_fluent_and_take_home_links_need_an_address_phones_use() {
    // A config from before the translations: the fix says where the wording lives now.
    let text = "(\n    journey: (\n        invitation: \"Step up\",\n    ),\n)\n";
    let err = parse_ron::<InstallationConfig>(text, Path::new("installation.ron")).unwrap_err();
    assert_eq!(err.line, 3, "{err}");
    assert!(err.to_string().contains("assets/i18n/<language>/kiosk.ftl"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("installation.ron");
    std::fs::write(&p, "(\n    share: (\n        enabled: true,\n        listen: \"0.0.0.0:8470\",\n    ),\n)\n")
        .unwrap();
    let err = InstallationConfig::load(&p).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("share.public_url") && msg.contains("fix:") && msg.contains("guest network"), "{msg}");
    std::fs::write(
        &p,
        "(\n    share: (enabled: true, listen: \"127.0.0.1:9107\", public_url: \"http://10.0.0.5:9107\"),\n    service: (health_address: Some(\"127.0.0.1:9107\")),\n)\n",
    )
    .unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains("staff") && msg.contains("port of its own"), "{msg}");
}

#[test]
fn the_console_needs_an_address_and_never_shares_the_guests_port() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("installation.ron");
    std::fs::write(&p, "(\n    console: (\n        enabled: true,\n        listen: \"everywhere\",\n    ),\n)\n")
        .unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains(":4:") && msg.contains("console.listen") && msg.contains("fix:"), "{msg}");
    std::fs::write(
        &p,
        "(\n    share: (enabled: true, listen: \"0.0.0.0:8470\", public_url: \"http://10.0.0.5:8470\"),\n    console: (enabled: true, listen: \"0.0.0.0:8470\"),\n)\n",
    )
    .unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains("console") && msg.contains("port of its own"), "{msg}");
    std::fs::write(&p, "(\n    console: (\n        session_idle_minutes: 0.0,\n    ),\n)\n").unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains(":3:") && msg.contains("session_idle_minutes"), "{msg}");
}

#[test]
fn a_scene_entry_carries_its_title_and_credit_per_language() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.ron");
    let entry = |translations: &str| {
        format!(
            "(\n  name: \"x\",\n  entries: [\n    (\n      styles: [(path: \"assets/styles/ink_waves.png\")],\n      title: \"Ink Waves\",\n      credit: \"Studio collection\",\n      translations: {translations},\n    ),\n  ],\n)\n"
        )
    };
    std::fs::write(&p, entry("{\"fr\": (title: \"Vagues d’encre\"), \"de\": (credit: \"Sammlung des Studios\")}"))
        .unwrap();
    let scene = Scene::load(&p, &common::root(), &StyleParams::default()).unwrap();
    let e = &scene.entries[0];
    assert_eq!((e.title_in("fr"), e.credit_in("fr")), ("Vagues d’encre", "Studio collection"));
    assert_eq!((e.title_in("de"), e.credit_in("de")), ("Ink Waves", "Sammlung des Studios"));
    assert_eq!((e.title_in("es"), e.credit_in("es")), ("Ink Waves", "Studio collection"));
    std::fs::write(&p, entry("{\"french!\": (title: \"x\")}")).unwrap();
    let err = Scene::load(&p, &common::root(), &StyleParams::default()).unwrap_err();
    assert_eq!(err.line, 8, "{err}");
    assert!(err.to_string().contains("not a language tag"), "{err}");
    // The shipped scene's titles are translated into every offered language.
    let shipped =
        Scene::load(&common::root().join("scenes/default.ron"), &common::root(), &StyleParams::default()).unwrap();
    for e in &shipped.entries {
        for lang in ["de", "fr", "es"] {
            assert_ne!(e.title_in(lang), e.title, "{} has no {lang} title", e.title);
        }
    }
}

#[test]
fn the_farm_link_needs_a_one_word_kiosk_name_and_a_nats_address_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("installation.ron");
    let with = |url: &str, kiosk: &str, extra: &str| {
        format!(
            "(\n    engine: (\n        remote: (\n            url: \"{url}\",\n            kiosk: \"{kiosk}\",{extra}\n        ),\n    ),\n)\n"
        )
    };
    std::fs::write(&p, with("nats://10.0.0.5:4222", "hall 2", "")).unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains(":5:") && msg.contains("engine.remote.kiosk") && msg.contains("fix:"), "{msg}");
    std::fs::write(&p, with("http://10.0.0.5:4222", "hall-2", "")).unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains(":4:") && msg.contains("nats://") && msg.contains("fix:"), "{msg}");
    std::fs::write(&p, with("tls://10.0.0.5:4222", "hall-2", " user: \"hall-2\",")).unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains("password_file") && msg.contains("fix:"), "{msg}");
    std::fs::write(&p, with("tls://10.0.0.5:4222", "hall-2", " fallback_after_s: 0.0,")).unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains("fallback_after_s") && msg.contains("fix:"), "{msg}");

    // A user without an identity: its jobs could not be told from forgeries.
    let user = " user: \"hall-2\", password_file: \"/etc/gp/hall-2\", ca: \"/etc/gp/ca.pem\",";
    std::fs::write(&p, with("tls://10.0.0.5:4222", "hall-2", user)).unwrap();
    let msg = InstallationConfig::load(&p).unwrap_err().to_string();
    assert!(msg.contains("identity") && msg.contains("farm-certs.sh") && msg.contains("fix:"), "{msg}");

    std::fs::write(
        &p,
        with("tls://10.0.0.5:4222", "hall-2", &format!("{user} identity: \"/etc/gp/identities/hall-2\",")),
    )
    .unwrap();
    let cfg = InstallationConfig::load(&p).unwrap();
    let remote = cfg.engine.remote.clone().unwrap();
    assert_eq!((remote.kiosk.as_str(), remote.fallback_after_s), ("hall-2", 3.0));
    let text = to_ron_string(&cfg);
    let back: InstallationConfig = parse_ron(&text, Path::new("again.ron")).unwrap();
    assert_eq!(back.engine.remote, cfg.engine.remote);
    // The shipped config has no farm: a single kiosk needs no NATS at all.
    let shipped = InstallationConfig::load(&common::root().join("config/installation.ron")).unwrap();
    assert_eq!(shipped.engine.remote, None);
}

#[test]
fn at_start_an_entry_with_a_broken_style_image_is_left_out_with_file_line_and_fix_and_the_rest_plays() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::root();
    let good = root.join("assets/styles/ink_waves.png");
    let broken = dir.path().join("broken.png");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 3]).unwrap();
    let entry =
        |path: &Path, title: &str| format!("    (styles: [(path: \"{}\")], title: \"{title}\"),\n", path.display());
    let text = format!(
        "(\n  name: \"five\",\n  entries: [\n{}{}{}{}{}  ],\n)\n",
        entry(&good, "One"),
        entry(&good, "Two"),
        entry(&broken, "Three"),
        entry(&good, "Four"),
        entry(&good, "Five")
    );
    let scene_path = dir.path().join("five.ron");
    std::fs::write(&scene_path, &text).unwrap();
    // A hot reload or a console save refuses the whole edit, as before ...
    assert!(Scene::load(&scene_path, &root, &StyleParams::default()).is_err());
    // ... but the kiosk starting on it shows the four that work.
    let (scene, refused) = Scene::load_playable(&scene_path, &root, &StyleParams::default()).unwrap();
    assert_eq!(scene.entries.len(), 5);
    assert_eq!(refused.len(), 1, "{refused:?}");
    let (index, e) = &refused[0];
    assert_eq!(*index, 2);
    let msg = e.to_string();
    assert!(msg.contains("five.ron:6:") && msg.contains("broken.png") && msg.contains("fix:"), "{msg}");
    // Nothing left to show: refused as a whole.
    std::fs::write(&scene_path, format!("(\n  name: \"one\",\n  entries: [\n{}  ],\n)\n", entry(&broken, "Three")))
        .unwrap();
    assert!(Scene::load_playable(&scene_path, &root, &StyleParams::default()).is_err());
}
