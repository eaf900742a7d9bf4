//! End to end, what a visitor takes away and reads: the real binary under Xvfb shows a QR
//! code at the reveal; it decodes to a link that a real Chromium, sized like a phone, opens;
//! the downloaded file is the painting that was on screen; half a minute later the link and
//! the file are gone. And every visible text switches with the language buttons and fits
//! its box, in four languages, at 1280x720 and 1920x1080.

use crate::common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::browser::{chromedriver, free_port, runtime};
use common::xvfb::Session;
use gallery_painter::app::layout_report::Report;
use gallery_painter::i18n::{Catalog, LanguageConfig};
use gallery_painter::scene::Scene;
use image::RgbImage;

/// The QR codes in a screenshot, decoded.
fn qr_codes(img: &RgbImage) -> Vec<String> {
    let grey = image::imageops::grayscale(img);
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(grey.width() as usize, grey.height() as usize, |x, y| {
            grey.get_pixel(x as u32, y as u32)[0]
        });
    prepared.detect_grids().iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}

fn http_status(url: &str) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    String::from_utf8_lossy(&head[9..12]).parse().unwrap()
}

/// A phone: headless Chromium with a 390x844 viewport that saves downloads in `downloads`.
async fn phone(driver: &str, downloads: &Path) -> fantoccini::Client {
    let extra = serde_json::json!({
        "mobileEmulation": { "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0 } },
        "prefs": {
            "download.default_directory": downloads.display().to_string(),
            "download.prompt_for_download": false,
        },
    });
    common::browser::chromium(driver, &["--lang=fr-FR"], extra).await
}

fn pngs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "png")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_visitor_scans_the_code_takes_the_painting_home_on_a_phone_and_it_is_deleted_after_expiry() {
    let port = free_port();
    let share_dir = tempfile::tempdir().unwrap();
    let public = format!("http://127.0.0.1:{port}");
    let mut session = Session::start(
        &format!(
            r#"(
            display: (fullscreen: true, crossfade_ms: 100, attract_after_s: 1000.0),
            source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240,
                              visitor: Scripted(away_s: 5.0, still_s: 6.0, stay_s: 400.0),
                              face: Some("assets/faces/hopper.png")),
            engine: (threads: 1, snapshot_every: 1, style: (size: 96, iterations: 30, levels: 1)),
            journey: (countdown_s: 2.0, side_by_side_s: 2.0, reveal_s: 400.0),
            share: (enabled: true, listen: "127.0.0.1:{port}", public_url: "{public}",
                    expire_min: 0.75, folder: Some("{}")),
        )"#,
            share_dir.path().display()
        ),
        11,
    );
    let long = Duration::from_secs(240);
    session.wait("the reveal", long, |s| s.field("journey") == "Reveal");
    let revealed_at = Instant::now();
    // The code shows once photo and painting have been side by side (2 s).
    let end = Instant::now() + Duration::from_secs(30);
    let (screen, codes) = loop {
        let screen = session.shot("share-1-reveal-qr.png");
        let codes = qr_codes(&screen);
        if !codes.is_empty() || Instant::now() > end {
            break (screen, codes);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(codes.len(), 1, "one QR code on screen: {codes:?}");
    let url = codes[0].clone();
    assert!(url.starts_with(&format!("{public}/p/")) && url.len() == public.len() + 3 + 32, "{url}");

    // The file the kiosk keeps for the link is the painting on screen.
    let kept = pngs(share_dir.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    // Written when the link was offered: the expiry is timed from it, not from when the test
    // saw the reveal (which may be later).
    let kept_at = std::fs::metadata(&kept[0]).unwrap().modified().unwrap();
    let kept_bytes = std::fs::read(&kept[0]).unwrap();
    let painting = image::load_from_memory(&kept_bytes).unwrap().to_rgb8();
    // The canvas fits the painting to the 1280x720 screen; compare a part no panel covers.
    let (w, h) = (painting.width() as f64, painting.height() as f64);
    let scale = (1280.0 / w).min(720.0 / h);
    let (ox, oy) = ((1280.0 - w * scale) / 2.0, (720.0 - h * scale) / 2.0);
    let shown = image::imageops::resize(
        &painting,
        (w * scale) as u32,
        (h * scale) as u32,
        image::imageops::FilterType::Triangle,
    );
    let mut diff = 0.0;
    let mut n = 0.0;
    for y in 150..430 {
        for x in 330..880 {
            let (p, q) = (screen.get_pixel(x, y), shown.get_pixel(x - ox as u32, y - oy as u32));
            diff += (0..3).map(|c| (p[c] as f64 - q[c] as f64).abs()).sum::<f64>();
            n += 3.0;
        }
    }
    assert!(diff / n < 14.0, "the kept file is not what the screen shows (mean difference {:.1})", diff / n);

    // A phone opens the link and downloads the painting.
    let downloads = tempfile::tempdir().unwrap();
    let (_driver, driver_url) = chromedriver();
    let rt = runtime();
    let (title, natural_width, body) = rt.block_on(async {
        let client = phone(&driver_url, downloads.path()).await;
        client.goto(&url).await.unwrap();
        let title = client.title().await.unwrap();
        let natural_width = client
            .execute("const i = document.querySelector('img'); return i.complete ? i.naturalWidth : -1;", vec![])
            .await
            .unwrap();
        let body = client.find(fantoccini::Locator::Css("body")).await.unwrap().text().await.unwrap();
        client.find(fantoccini::Locator::Css("a.download")).await.unwrap().click().await.unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        while pngs(downloads.path()).is_empty() && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let shot = client.screenshot().await.unwrap();
        if let Some(keep) = std::env::var_os("E2E_SCREENSHOTS").map(PathBuf::from) {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::write(keep.join("share-2-phone.png"), &shot).unwrap();
        }
        client.close().await.unwrap();
        (title, natural_width, body)
    });
    assert_eq!(title, "Your painting");
    assert_eq!(natural_width.as_i64(), Some(painting.width() as i64), "the page shows the painting");
    assert!(body.contains("Swirling Night") && body.contains("Download the painting"), "{body}");
    assert!(body.contains("deleted at") && body.contains("in one minute"), "{body}");
    let downloaded = pngs(downloads.path());
    assert_eq!(downloaded.len(), 1, "one file downloaded: {downloaded:?}");
    assert_eq!(std::fs::read(&downloaded[0]).unwrap(), kept_bytes, "the download is the painting, byte for byte");

    // 45 s after the offer, the link is dead and the file is gone.
    let end = revealed_at + Duration::from_secs(90);
    while http_status(&url) != 410 {
        assert!(Instant::now() < end, "the link never expired");
        std::thread::sleep(Duration::from_millis(500));
    }
    let lived = kept_at.elapsed().unwrap();
    assert!(lived >= Duration::from_secs(44), "the link died {lived:?} after its file was written, before its 45 s");
    // The reaper deletes expired files every second.
    let end = Instant::now() + Duration::from_secs(5);
    while !pngs(share_dir.path()).is_empty() {
        assert!(Instant::now() < end, "the file is still on disk");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Guessing: wrong links from one address are refused after the limit (20 a minute).
    let statuses: Vec<u16> = (0..21).map(|i| http_status(&format!("{public}/p/{:032x}", i + 7))).collect();
    assert!(statuses[..20].iter().all(|s| *s == 404) && statuses[20] == 429, "{statuses:?}");
    assert!(!session.log().contains("panicked"), "{}", session.log());
    session.quit();
}

fn read_report(path: &Path) -> Option<Report> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn wait_for_report(path: &Path) -> Report {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(r) = read_report(path) {
            return r;
        }
        assert!(Instant::now() < end, "no layout report at {}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
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

fn languages_switch_and_fit_on(screen: &str, offset: u32) {
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
    let session = Session::start_on_screen(
        &format!(
            r#"(
            display: (fullscreen: true, crossfade_ms: 100, attract_after_s: 1000.0),
            source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240,
                              visitor: Scripted(away_s: 30.0, still_s: 6.0, stay_s: 400.0),
                              face: Some("assets/faces/hopper.png")),
            engine: (threads: 1, snapshot_every: 1, style: (size: 96, iterations: 100, levels: 1)),
            journey: (countdown_s: 9.0, side_by_side_s: 9.0, reveal_s: 400.0),
            share: (enabled: true, listen: "127.0.0.1:{port}", public_url: "http://127.0.0.1:{port}"),
        )"#
        ),
        offset,
        None,
        &[("GALLERY_LAYOUT_REPORT", report.display().to_string())],
        &[],
        screen,
    );
    let long = Duration::from_secs(240);
    let at = |s: &'static str| move |x: &Session| x.field("journey") == s;
    session.wait("the attract screen", long, |s| s.field("journey") == "Attract" && s.updates() >= 1);
    let mut covered = Vec::new();
    for state in ["Attract", "Countdown", "Painting", "Reveal"] {
        session.wait(state, long, at(state));
        std::thread::sleep(Duration::from_millis(500));
        covered.push((state, cycle_languages(&session, &report, (state, state), &texts, &scene)));
    }
    // Once photo and painting have been side by side: the QR code and "Paint me again".
    std::thread::sleep(Duration::from_secs(8));
    covered.push(("Reveal, after", cycle_languages(&session, &report, ("Reveal", "Reveal-after"), &texts, &scene)));
    eprintln!("{screen}: languages checked per state: {covered:?}");
    for (state, n) in &covered {
        assert_eq!(*n, 4, "{state}: only {n} of 4 languages checked before the state ended");
    }
    assert!(!session.log().contains("panicked"), "{}", session.log());
}

#[test]
fn every_visible_text_switches_language_and_fits_at_1280x720() {
    languages_switch_and_fit_on("1280x720", 13);
}

#[test]
fn every_visible_text_switches_language_and_fits_at_1920x1080() {
    languages_switch_and_fit_on("1920x1080", 15);
}
