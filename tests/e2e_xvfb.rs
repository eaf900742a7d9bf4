//! End to end: the real binary in a real X server (Xvfb + Mesa lavapipe + a window manager),
//! synthetic source, tiny engine size on CPU. Checks what a visitor would see.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

struct Killer(Vec<Child>);
impl Drop for Killer {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn need(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "{tool} is missing: run scripts/setup.sh (it installs the window test tools)");
}

fn screenshot(display: &str, path: &Path) -> RgbImage {
    let st = Command::new("import").args(["-window", "root"]).arg(path).env("DISPLAY", display).status().unwrap();
    assert!(st.success(), "import failed");
    image::open(path).unwrap().to_rgb8()
}

fn status(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn field(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
        .unwrap_or("")
        .trim_end_matches(',')
        .trim_matches('"')
        .to_string()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for {what}");
}

fn region_diff(a: &RgbImage, b: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            for c in 0..3 {
                sum += (p[c] as f64 - q[c] as f64).abs();
                n += 1.0;
            }
        }
    }
    sum / n
}

fn mean_color(a: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
    let mut s = [0.0; 3];
    let mut n = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = a.get_pixel(x, y);
            for c in 0..3 {
                s[c] += p[c] as f64;
            }
            n += 1.0;
        }
    }
    s.map(|v| v / n)
}

#[test]
fn the_installation_paints_on_screen_and_answers_a_tap() {
    for t in ["Xvfb", "matchbox-window-manager", "import", "xdotool", "wmctrl"] {
        need(t);
    }
    let dir = tempfile::tempdir().unwrap();
    let display = format!(":{}", 90 + std::process::id() % 100);
    let runtime = dir.path().join("xdg");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let mut procs = Killer(Vec::new());
    procs.0.push(
        Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x720x24", "-nolisten", "tcp"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(800));
    procs.0.push(
        Command::new("matchbox-window-manager")
            .args(["-use_titlebar", "no"])
            .env("DISPLAY", &display)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let config = dir.path().join("installation.ron");
    std::fs::write(
        &config,
        r#"(
            display: (fullscreen: true, crossfade_ms: 150, attract_after_s: 1000.0),
            source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240),
            engine: (threads: 1, snapshot_every: 1, hold_finished_s: 1000.0,
                     style: (size: 96, iterations: 60, levels: 1)),
        )"#,
    )
    .unwrap();
    let status_file = dir.path().join("status.ron");
    let log = std::fs::File::create(dir.path().join("app.log")).unwrap();
    procs.0.push(
        Command::new(env!("CARGO_BIN_EXE_gallery-painter"))
            .arg("run")
            .arg("--config")
            .arg(&config)
            .arg("--status-file")
            .arg(&status_file)
            .current_dir(common::root())
            .env("DISPLAY", &display)
            .env("WGPU_BACKEND", "vulkan")
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let app_log = || std::fs::read_to_string(dir.path().join("app.log")).unwrap_or_default();
    let updates = || field(&status(&status_file), "painting_updates").parse::<u64>().unwrap_or(0);

    let start = Instant::now();
    while updates() < 2 {
        assert!(start.elapsed() < Duration::from_secs(240), "no painting on screen; app log:\n{}", app_log());
        std::thread::sleep(Duration::from_millis(300));
    }
    let shots: PathBuf = dir.path().to_path_buf();
    let keep = std::env::var_os("E2E_SCREENSHOTS").map(PathBuf::from);
    let a = screenshot(&display, &shots.join("a.png"));
    assert_eq!(a.dimensions(), (1280, 720));
    let first_updates = updates();
    wait_until("more snapshots", Duration::from_secs(120), || updates() >= first_updates + 4);
    let b = screenshot(&display, &shots.join("b.png"));

    // Fullscreen: a 4:3 painting on a 16:9 screen is pillarboxed, centred, full height.
    let painting = (170, 130, 1110, 500); // inside the painting, clear of caption and picker
    assert!(
        region_diff(&a, &b, painting.0, painting.1, painting.2, painting.3) > 0.5,
        "the painting did not change as it refined"
    );
    let side = mean_color(&b, 20, 300, 140, 420);
    assert!(side.iter().all(|c| *c < 8.0), "pillarbox is not black: {side:?}");
    let centre = mean_color(&b, 500, 250, 780, 450);
    assert!(centre.iter().sum::<f64>() > 60.0, "no painting in the centre: {centre:?}");
    let geometry = Command::new("xdotool")
        .args(["search", "--name", "Gallery Painter", "getwindowgeometry"])
        .env("DISPLAY", &display)
        .output()
        .unwrap();
    let geometry = String::from_utf8_lossy(&geometry.stdout);
    assert!(geometry.contains("1280x720"), "window is not fullscreen: {geometry}");

    // A tap on the third thumbnail (Ink Waves): caption and style change.
    let caption_before = field(&status(&status_file), "caption");
    assert!(caption_before.starts_with("Swirling Night"), "{caption_before}");
    let thumb_x = (1280 - (5 * 184 + 4 * 14)) / 2 + 2 * 198 + 92;
    Command::new("xdotool")
        .args(["mousemove", &thumb_x.to_string(), "642", "click", "1"])
        .env("DISPLAY", &display)
        .status()
        .unwrap();
    wait_until("the caption to change", Duration::from_secs(30), || {
        field(&status(&status_file), "caption").starts_with("Ink Waves")
    });
    let tapped = updates();
    wait_until("the new style to paint", Duration::from_secs(120), || updates() >= tapped + 6);
    let c = screenshot(&display, &shots.join("c.png"));
    assert!(region_diff(&b, &c, 30, 30, 420, 70) > 2.0, "caption area unchanged on screen");
    let (mb, mc) = (
        mean_color(&b, painting.0, painting.1, painting.2, painting.3),
        mean_color(&c, painting.0, painting.1, painting.2, painting.3),
    );
    let shift: f64 = mb.iter().zip(mc).map(|(x, y)| (x - y).abs()).sum();
    assert!(
        shift > 6.0 || region_diff(&b, &c, painting.0, painting.1, painting.2, painting.3) > 8.0,
        "painting style did not change: {mb:?} vs {mc:?}"
    );
    if let Some(k) = keep {
        std::fs::create_dir_all(&k).unwrap();
        for f in ["a.png", "b.png", "c.png"] {
            std::fs::copy(shots.join(f), k.join(f)).unwrap();
        }
    }
    // Exhibition mode: a close request (as the window manager sends it) is ignored ...
    Command::new("wmctrl").args(["-c", "Gallery Painter"]).env("DISPLAY", &display).status().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let app = procs.0.last_mut().unwrap();
    assert!(app.try_wait().unwrap().is_none(), "app exited on a close request: {}", app_log());
    assert!(app_log().contains("close request ignored"), "{}", app_log());
    // ... and the admin chord quits cleanly.
    Command::new("xdotool").args(["key", "ctrl+alt+q"]).env("DISPLAY", &display).status().unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = app.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < end, "admin chord did not quit: {}", app_log());
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "exit status {status}: {}", app_log());
}
