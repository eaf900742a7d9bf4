//! End to end, what a visitor takes away and reads: the real binary under Xvfb shows a QR
//! code at the reveal; it decodes to a link that a real Chromium, sized like a phone, opens;
//! the downloaded file is the painting that was on screen; half a minute later the link and
//! the file are gone.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::browser::{chromedriver, free_port, runtime};
use common::xvfb::Session;
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
    http_status_with(url, "")
}

/// The status of a GET of `url` with more header lines (`extra`, each ending in \r\n).
fn http_status_with(url: &str, extra: &str) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n").unwrap();
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
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("layout.json");
    let mut session = Session::start_with(
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
        None,
        &[("GALLERY_LAYOUT_REPORT", report.display().to_string())],
        &[],
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

    // The files the kiosk keeps for the link: the painting on screen, and its making-of (an
    // animated PNG of 12 snapshots, evenly spread, written a moment after the painting).
    let end = Instant::now() + Duration::from_secs(20);
    while pngs(share_dir.path()).len() < 2 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (animated, kept): (Vec<PathBuf>, Vec<PathBuf>) = pngs(share_dir.path()).into_iter().partition(|p| {
        let reader = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(p).unwrap())).read_info().unwrap();
        reader.info().animation_control.is_some()
    });
    assert_eq!((kept.len(), animated.len()), (1, 1), "{kept:?} {animated:?}");
    let making_of =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&animated[0]).unwrap())).read_info().unwrap();
    let frames = making_of.info().animation_control.unwrap().num_frames;
    assert_eq!(frames, 12, "the making-of has 12 frames");
    // ... which show the painting come about: each differs from the one before, they come
    // closer to the painting frame by frame, from far off (near the photo) to the painting.
    let mut making_of = making_of;
    let (fw, fh) = (making_of.info().width, making_of.info().height);
    let mut pictures = Vec::new();
    for _ in 0..frames {
        let mut buf = vec![0; making_of.output_buffer_size().unwrap()];
        let info = making_of.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        pictures.push(RgbImage::from_raw(fw, fh, buf).unwrap());
    }
    let taken_home = image::open(&kept[0]).unwrap().to_rgb8();
    let painting_small = image::imageops::resize(&taken_home, fw, fh, image::imageops::FilterType::Triangle);
    let distance: Vec<f64> = pictures.iter().map(|p| common::mean_abs_diff(p, &painting_small)).collect();
    eprintln!("making-of: distance to the painting frame by frame {distance:.1?}");
    for (k, pair) in pictures.windows(2).enumerate() {
        assert!(common::mean_abs_diff(&pair[0], &pair[1]) > 0.2, "frames {k} and {} are the same", k + 1);
    }
    for (k, d) in distance.windows(2).enumerate() {
        assert!(d[1] <= d[0] + 1.0, "frame {} is further from the painting than frame {k}: {distance:.1?}", k + 1);
    }
    assert!(distance[0] > distance[11] + 15.0, "the first frame is near the painting already: {distance:.1?}");
    // The last frame is the painting itself: enlarged as the take-home file is, it is that file.
    let last = gallery_painter::share::for_take_home(&pictures[11]).unwrap_or_else(|| pictures[11].clone());
    assert!(last == taken_home, "the last frame of the making-of is not the painting taken home");
    // Written when the link was offered: the expiry is timed from it, not from when the test
    // saw the reveal (which may be later).
    let kept_at = std::fs::metadata(&kept[0]).unwrap().modified().unwrap();
    let kept_bytes = std::fs::read(&kept[0]).unwrap();
    let painting = image::load_from_memory(&kept_bytes).unwrap().to_rgb8();
    // The visitor's painting is framed on the stage, clear of every panel: compare it whole.
    let [cx0, cy0, cx1, cy1] = crate::e2e_layout::panel_at(&report, "canvas");
    let shown = image::imageops::resize(&painting, cx1 - cx0, cy1 - cy0, image::imageops::FilterType::Triangle);
    let mut diff = 0.0;
    let mut n = 0.0;
    for y in cy0 + 4..cy1 - 4 {
        for x in cx0 + 4..cx1 - 4 {
            let (p, q) = (screen.get_pixel(x, y), shown.get_pixel(x - cx0, y - cy0));
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
        // The making-of plays under it (loaded once the browser has it).
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let w = client
                .execute(
                    "const i = document.querySelector('img.making-of'); return i && i.complete ? i.naturalWidth : -1;",
                    vec![],
                )
                .await
                .unwrap();
            if w.as_i64().is_some_and(|w| w > 0) {
                break;
            }
            assert!(Instant::now() < end, "the making-of did not load on the phone");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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
            client.execute("document.querySelector('h2').scrollIntoView()", vec![]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
            std::fs::write(keep.join("share-3-making-of.png"), client.screenshot().await.unwrap()).unwrap();
        }
        client.close().await.unwrap();
        (title, natural_width, body)
    });
    assert_eq!(title, "Your painting");
    assert_eq!(natural_width.as_i64(), Some(painting.width() as i64), "the page shows the painting");
    assert!(body.contains("Swirling Night") && body.contains("Download the painting"), "{body}");
    assert!(body.contains("deleted at") && body.contains("in one minute"), "{body}");
    assert!(body.contains("How your painting was made"), "{body}");
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
    // The reaper deletes expired files (the painting and its making-of) every second.
    let end = Instant::now() + Duration::from_secs(5);
    while !pngs(share_dir.path()).is_empty() {
        assert!(Instant::now() < end, "a file is still on disk: {:?}", pngs(share_dir.path()));
        std::thread::sleep(Duration::from_millis(200));
    }
    // Guessing: wrong links from one address are refused after the limit (20 a minute).
    let statuses: Vec<u16> = (0..21).map(|i| http_status(&format!("{public}/p/{:032x}", i + 7))).collect();
    assert!(statuses[..20].iter().all(|s| *s == 404) && statuses[20] == 429, "{statuses:?}");
    assert!(!session.log().contains("panicked"), "{}", session.log());
    session.quit();
}

/// Folders of the kiosk's take-home paintings in `temp`.
fn share_folders(temp: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(temp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("gallery-painter-share-")))
        .collect();
    v.sort();
    v
}

#[test]
fn a_kiosk_stopped_by_sigterm_leaves_no_painting_behind_and_a_killed_kiosks_folder_goes_at_the_next_start() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let temp = tempfile::tempdir().unwrap();
    // What a kiosk killed with its painting on offer left (its process is long gone).
    let left = temp.path().join(format!("gallery-painter-share-{}-x1y2z3", i32::MAX));
    std::fs::create_dir(&left).unwrap();
    std::fs::write(left.join("0123456789abcdef0123456789abcdef.png"), b"a visitor's painting").unwrap();
    let port = free_port();
    let mut session = Session::start_with(
        &format!(
            r#"(
            display: (fullscreen: true, crossfade_ms: 100, attract_after_s: 1000.0),
            source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240,
                              visitor: Scripted(away_s: 3.0, still_s: 6.0, stay_s: 400.0),
                              face: Some("assets/faces/hopper.png")),
            engine: (threads: 1, snapshot_every: 1, style: (size: 64, iterations: 12, levels: 1)),
            journey: (countdown_s: 1.0, side_by_side_s: 1.0, reveal_s: 400.0),
            share: (enabled: true, listen: "127.0.0.1:{port}", public_url: "http://127.0.0.1:{port}"),
        )"#
        ),
        19,
        None,
        &[("TMPDIR", temp.path().display().to_string())],
        &[],
    );
    session.wait("the reveal", Duration::from_secs(240), |s| s.field("journey") == "Reveal");
    assert!(!left.exists(), "the folder a killed kiosk left is still there");
    let folders = share_folders(temp.path());
    assert_eq!(folders.len(), 1, "{folders:?}");
    let pid = session.app().id();
    assert!(folders[0].to_string_lossy().contains(&format!("-{pid}-")), "{folders:?}");
    let end = Instant::now() + Duration::from_secs(30);
    while pngs(&folders[0]).is_empty() {
        assert!(Instant::now() < end, "no take-home painting was written");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Only the kiosk's own user may read what a visitor takes home.
    assert_eq!(mode(&folders[0]), 0o700, "the folder");
    for f in pngs(&folders[0]) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    // What `systemctl stop` sends.
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) }, 0);
    session.exits_cleanly("SIGTERM");
    assert!(session.log().contains("SIGTERM: stopping"), "{}", session.log());
    assert!(share_folders(temp.path()).is_empty(), "left behind: {:?}", share_folders(temp.path()));
}

#[test]
fn the_kiosk_believes_the_proxy_its_config_names_and_nothing_forwarded_is_this_machine() {
    // nginx on this machine (127.0.0.1) in front of the kiosk, named in the installation's
    // config: what it forwards is the browser's address, never "this machine", so /health
    // (this machine only) refuses it. A kiosk that ignored service.trusted_proxies would see
    // loopback and answer 200.
    let port = free_port();
    let mut session = Session::start(
        &format!(
            r#"(
            display: (fullscreen: true, attract_after_s: 1000.0),
            source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240),
            engine: (threads: 1, style: (size: 64, iterations: 4, levels: 1)),
            service: (health_address: Some("127.0.0.1:{port}"), trusted_proxies: ["127.0.0.1"]),
        )"#
        ),
        21,
    );
    let health = format!("http://127.0.0.1:{port}/health");
    let end = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "no /health: {}", session.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(http_status(&health), 200, "a technician's curl on the kiosk: {}", session.log());
    assert_eq!(http_status_with(&health, "X-Forwarded-For: 203.0.113.5\r\n"), 403, "a browser behind the proxy");
    assert_eq!(http_status_with(&health, "X-Forwarded-For: 127.0.0.1\r\n"), 403, "forwarded, naming loopback");
    // The window is up before the admin chord can reach it.
    session.wait("the attract screen", Duration::from_secs(120), |s| s.field("journey") == "Attract");
    session.quit();
}
