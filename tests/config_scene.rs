//! Config and scene files: round trips, the shipped files, and error messages that say
//! where and how to fix.

mod common;

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
