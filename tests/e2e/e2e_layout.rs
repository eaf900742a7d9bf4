//! End to end, every visitor: the real binary under Xvfb, driven by its layout report. In
//! every moment of the journey and in each of four languages: every visible text switches
//! with the language buttons, fits its box and is legible on its panel in the theme on show
//! (WCAG AA over the brightest picture), and every control a visitor touches lies within
//! reach. At 1280x720 with `kiosk.reach` set, at 1920x1080 in high contrast, and on a
//! portrait 1080x1920 screen (reach by default), where the visitor switches high contrast
//! on after the first moment.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::browser::free_port;
use common::xvfb::Session;
use gallery_painter::app::layout_report::Report;
use gallery_painter::app::theme::{Palette, worst_contrast};
use gallery_painter::i18n::{Catalog, LanguageConfig};
use gallery_painter::scene::Scene;

pub(crate) fn read_report(path: &Path) -> Option<Report> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

pub(crate) fn wait_for_report(path: &Path) -> Report {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(r) = read_report(path) {
            return r;
        }
        assert!(Instant::now() < end, "no layout report at {}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where the visitor panel `name` is on screen now (whole px), waiting for it to show.
pub(crate) fn panel_at(path: &Path, name: &str) -> [u32; 4] {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some((_, r)) = read_report(path).and_then(|r| r.panels.into_iter().find(|(n, _)| n == name)) {
            return r.map(|v| v.max(0.0).round() as u32);
        }
        assert!(Instant::now() < end, "no {name} on screen");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How far two boxes overlap: the shorter of the shared width and height (0 when apart).
fn overlap(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x = a[2].min(b[2]) - a[0].max(b[0]);
    let y = a[3].min(b[3]) - a[1].max(b[1]);
    x.min(y).max(0.0)
}

/// Everything wrong with the texts on screen in `lang`, for a message.
fn problems(report: &Report, lang: &str, texts: &Catalog, scene: &Scene) -> Vec<String> {
    let [w, h] = report.window.map(|v| v as f32);
    let mut out = Vec::new();
    for t in &report.texts {
        let Some(key) = &t.key else {
            out.push(format!("\"{}\" does not go through Fluent", t.text));
            continue;
        };
        let [x0, y0, x1, y1] = t.rect;
        if x0 < -1.0 || y0 < -1.0 || x1 > w + 1.0 || y1 > h + 1.0 {
            out.push(format!("{key} \"{}\" leaves the {w}x{h} screen: {:?}", t.text, t.rect));
        }
        if let Some([px0, py0, px1, py1]) = t.parent
            && (x0 < px0 - 1.0 || y0 < py0 - 1.0 || x1 > px1 + 1.0 || y1 > py1 + 1.0)
        {
            out.push(format!("{key} \"{}\" overflows its box: {:?} in {:?}", t.text, t.rect, t.parent));
        }
        if y1 - y0 > t.font_px * 1.45 * 2.0 + 2.0 {
            out.push(format!("{key} \"{}\" takes more than two lines ({:.0} px at {} px)", t.text, y1 - y0, t.font_px));
        }
        let expected = if let Some(i) = key.strip_prefix("entry-title:") {
            Some(scene.entries[i.parse::<usize>().unwrap()].title_in(lang).to_string())
        } else if key.contains(':') || ["countdown-seconds", "language-name"].contains(&key.as_str()) {
            None // made with variables or in its own language: checked below or by eye
        } else {
            Some(texts.text(lang, key))
        };
        if let Some(e) = expected
            && e != t.text
        {
            out.push(format!("{key} shows \"{}\" but in {lang} it is \"{e}\"", t.text));
        }
    }
    // No text sits on another (the label and the language buttons share the top edge).
    for (i, a) in report.texts.iter().enumerate() {
        for b in &report.texts[i + 1..] {
            let overlap_x = a.rect[2].min(b.rect[2]) - a.rect[0].max(b.rect[0]);
            let overlap_y = a.rect[3].min(b.rect[3]) - a.rect[1].max(b.rect[1]);
            if overlap_x > 2.0 && overlap_y > 2.0 {
                out.push(format!("\"{}\" and \"{}\" overlap: {:?} {:?}", a.text, b.text, a.rect, b.rect));
            }
        }
    }
    // No panel a visitor sees lies on another. The painting is the ground everything sits on
    // while it is being made; the visitor's finished painting is theirs, clear of every panel
    // (photo and painting side by side cover it on their black backdrop).
    let revealed = report.journey == "Reveal";
    for (i, (a, ra)) in report.panels.iter().enumerate() {
        for (b, rb) in &report.panels[i + 1..] {
            let other = if a == "canvas" { b } else { a };
            if (a == "canvas" || b == "canvas") && (!revealed || other == "photo" || other == "painting") {
                continue;
            }
            if overlap(ra, rb) > 2.0 {
                out.push(format!("the {a} and the {b} overlap: {ra:?} {rb:?}"));
            }
        }
    }
    for (name, r) in report.panels.iter().filter(|(n, _)| n == "countdown") {
        for face in &report.faces {
            if overlap(r, face) > 2.0 {
                out.push(format!("the {name} covers the visitor's face: {r:?} over {face:?}"));
            }
        }
    }
    // Legible: each text on its panel, in the theme on show, over the brightest picture.
    let palette = if report.high_contrast { Palette::HIGH_CONTRAST } else { Palette::STANDARD };
    for t in &report.texts {
        let Some(ink) = t.ink else {
            out.push(format!("\"{}\" has no colour role", t.text));
            continue;
        };
        let Some(on) = t.on else {
            out.push(format!("\"{}\" sits on the picture without a panel", t.text));
            continue;
        };
        let c = worst_contrast(&palette, ink, on);
        if c < 4.5 {
            out.push(format!("\"{}\" ({ink:?} on {on:?}) is {c:.2}:1, below WCAG AA", t.text));
        }
    }
    // Within reach: every control a visitor touches, inside the lower part of the screen.
    if let Some(fraction) = report.reach {
        let top = h * (1.0 - fraction);
        for b in &report.touchables {
            if b.rect[1] < top - 1.0 {
                out.push(format!(
                    "\"{}\" is out of reach: its top at {:.0} px, the zone starts at {top:.0}",
                    b.what, b.rect[1]
                ));
            }
        }
    }
    let names: BTreeSet<&str> =
        report.texts.iter().filter(|t| t.key.as_deref() == Some("language-name")).map(|t| t.text.as_str()).collect();
    if names != BTreeSet::from(["Deutsch", "English", "Español", "Français"]) {
        out.push(format!("the language buttons read {names:?}"));
    }
    out
}

/// Presses each language's button in turn while the journey is in `state` and checks the
/// screen after each; returns the languages it could check before the state ended.
fn cycle_languages(
    session: &Session,
    report_path: &Path,
    (state, moment): (&str, &str),
    texts: &Catalog,
    scene: &Scene,
) -> usize {
    let mut checked = 0;
    for lang in ["de", "fr", "es", "en"] {
        let report = wait_for_report(report_path);
        if report.journey != state {
            eprintln!("{state}: the journey is in {} now", report.journey);
            return checked;
        }
        let (_, [x0, y0, x1, y1]) = report.buttons.iter().find(|(l, _)| l == lang).expect("a button per language");
        session.click(((x0 + x1) / 2.0) as u32, ((y0 + y1) / 2.0) as u32);
        let end = Instant::now() + Duration::from_secs(6);
        let mut last = Vec::new();
        loop {
            std::thread::sleep(Duration::from_millis(150));
            let Some(r) = read_report(report_path) else { continue };
            if r.journey != state {
                eprintln!("{state}: the journey moved on to {} while {lang} was checked", r.journey);
                return checked;
            }
            if r.language == lang {
                last = problems(&r, lang, texts, scene);
                if last.is_empty() {
                    break;
                }
            }
            assert!(Instant::now() < end, "{state} in {lang} at {:?}:\n{}", r.window, last.join("\n"));
        }
        // The software renderer presents a frame or two behind the layout.
        std::thread::sleep(Duration::from_millis(700));
        let [w, h] = read_report(report_path).map(|r| r.window).unwrap_or([0, 0]);
        let _ = session.shot(&format!("lang-{moment}-{lang}-{w}x{h}.png"));
        checked += 1;
    }
    checked
}

/// How a screen is set up, and what its report must say.
struct Setup {
    screen: &'static str,
    offset: u32,
    /// The `kiosk: (..)` section.
    kiosk: &'static str,
    /// The reachable share of the screen the report must give (None: no zone).
    reach: Option<f32>,
    /// The visitor touches "Touch to be painted" (capture: touch), within reach.
    touch_capture: bool,
    /// The visitor switches high contrast on after the first moment.
    switch_contrast: bool,
}

/// The touchable `what` in the report, clicked in its middle.
fn press(session: &Session, report_path: &Path, what: &str) {
    let report = wait_for_report(report_path);
    let b = report.touchables.iter().find(|b| b.what == what).unwrap_or_else(|| {
        panic!(
            "no \"{what}\" to touch in {}: {:?}",
            report.journey,
            report.touchables.iter().map(|b| &b.what).collect::<Vec<_>>()
        )
    });
    let [x0, y0, x1, y1] = b.rect;
    session.click(((x0 + x1) / 2.0) as u32, ((y0 + y1) / 2.0) as u32);
}

fn every_moment_on(setup: Setup) {
    let texts = Catalog::load(&LanguageConfig::default(), &common::root()).unwrap();
    let scene = Scene::load(
        &common::root().join("scenes/default.ron"),
        &common::root(),
        &gallery_painter::engine::StyleParams::default(),
    )
    .unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("layout.json");
    let port = free_port();
    let capture = if setup.touch_capture { "touch" } else { "auto" };
    let session = Session::start_on_screen(
        &format!(
            r#"(
            display: (fullscreen: true, crossfade_ms: 100, attract_after_s: 1000.0),
            source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240,
                              visitor: Scripted(away_s: 30.0, still_s: 6.0, stay_s: 400.0),
                              face: Some("assets/faces/hopper.png")),
            engine: (threads: 1, snapshot_every: 1, style: (size: 96, iterations: 250, levels: 1)),
            journey: (capture: {capture}, countdown_s: 9.0, side_by_side_s: 9.0, reveal_s: 400.0),
            share: (enabled: true, listen: "127.0.0.1:{port}", public_url: "http://127.0.0.1:{port}"),
            kiosk: {kiosk},
        )"#,
            kiosk = setup.kiosk,
        ),
        setup.offset,
        None,
        &[("GALLERY_LAYOUT_REPORT", report.display().to_string())],
        &[],
        setup.screen,
    );
    let screen = setup.screen;
    let long = Duration::from_secs(240);
    let at = |s: &'static str| move |x: &Session| x.field("journey") == s;
    session.wait("the attract screen", long, |s| s.field("journey") == "Attract" && s.updates() >= 1);
    assert_eq!(wait_for_report(&report).reach, setup.reach, "{screen}: the reach zone");
    let mut covered = Vec::new();
    let moments: &[&str] = if setup.touch_capture {
        &["Attract", "Noticed", "Countdown", "Painting", "Reveal"]
    } else {
        &["Attract", "Countdown", "Painting", "Reveal"]
    };
    for &state in moments {
        session.wait(state, long, at(state));
        std::thread::sleep(Duration::from_millis(500));
        covered.push((state, cycle_languages(&session, &report, (state, state), &texts, &scene)));
        if state == "Attract" && setup.switch_contrast {
            let before = wait_for_report(&report).high_contrast;
            press(&session, &report, "contrast button");
            let end = Instant::now() + Duration::from_secs(6);
            while wait_for_report(&report).high_contrast == before {
                assert!(Instant::now() < end, "{screen}: the contrast button did not switch the theme");
                std::thread::sleep(Duration::from_millis(150));
            }
            covered.push((
                "Attract, high contrast",
                cycle_languages(&session, &report, (state, "Attract-contrast"), &texts, &scene),
            ));
        }
        if state == "Noticed" {
            press(&session, &report, &texts.text("en", "noticed-touch-to-be-painted"));
        }
    }
    // Once photo and painting have been side by side: the QR code and "Paint me again".
    std::thread::sleep(Duration::from_secs(8));
    covered.push(("Reveal, after", cycle_languages(&session, &report, ("Reveal", "Reveal-after"), &texts, &scene)));
    eprintln!("{screen}: languages checked per state: {covered:?}");
    for (state, n) in &covered {
        assert_eq!(*n, 4, "{screen}, {state}: only {n} of 4 languages checked before the state ended");
    }
    assert!(!session.log().contains("panicked"), "{}", session.log());
}

#[test]
fn every_moment_in_every_language_fits_reads_and_is_within_reach_at_1280x720() {
    every_moment_on(Setup {
        screen: "1280x720",
        offset: 13,
        kiosk: "(reach: (bottom_fraction: 0.55))",
        reach: Some(0.55),
        touch_capture: false,
        switch_contrast: false,
    });
}

#[test]
fn every_moment_in_every_language_fits_and_reads_in_high_contrast_at_1920x1080() {
    every_moment_on(Setup {
        screen: "1920x1080",
        offset: 15,
        kiosk: "(high_contrast: true)",
        reach: None,
        touch_capture: false,
        switch_contrast: false,
    });
}

#[test]
fn on_a_portrait_screen_every_control_is_within_reach_in_both_themes() {
    every_moment_on(Setup {
        screen: "1080x1920",
        offset: 17,
        kiosk: "()",
        reach: Some(0.5),
        touch_capture: true,
        switch_contrast: true,
    });
}
