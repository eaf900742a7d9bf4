//! The real binary under its own X server (Xvfb + Mesa lavapipe + a window manager): start,
//! watch its status file, take screenshots, click, quit. Used by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

pub use super::browser::{Killer, need};

pub fn screenshot(display: &str, path: &Path) -> RgbImage {
    let st = Command::new("import").args(["-window", "root"]).arg(path).env("DISPLAY", display).status().unwrap();
    assert!(st.success(), "import failed");
    image::open(path).unwrap().to_rgb8()
}

pub fn status(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

pub fn field(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
        .unwrap_or("")
        .trim_end_matches(',')
        .trim_matches('"')
        .to_string()
}

pub fn region_diff(a: &RgbImage, b: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
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

pub fn mean_color(a: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
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

/// One app under its own X server and window manager; stops both on drop.
pub struct Session {
    pub dir: tempfile::TempDir,
    pub display: String,
    pub procs: Killer,
    pub status_file: PathBuf,
    /// Held for the whole test: two painting apps at once would share two cores.
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

pub static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Session {
    pub fn start(config: &str, display_offset: u32) -> Session {
        Session::start_with(config, display_offset, None, &[], &[])
    }

    pub fn start_with_camera(config: &str, display_offset: u32, camera: Option<&[&str]>) -> Session {
        Session::start_with(config, display_offset, camera, &[], &[])
    }

    /// With `camera`: the app runs with the V4L2 test camera configured by these options;
    /// `env`: extra environment for the app.
    pub fn start_with(
        config: &str,
        display_offset: u32,
        camera: Option<&[&str]>,
        env: &[(&str, String)],
        args: &[&Path],
    ) -> Session {
        Session::start_on_screen(config, display_offset, camera, env, args, "1280x720")
    }

    /// [`Session::start_with`] on an X screen of `screen` ("1920x1080") pixels.
    pub fn start_on_screen(
        config: &str,
        display_offset: u32,
        camera: Option<&[&str]>,
        env: &[(&str, String)],
        args: &[&Path],
        screen: &str,
    ) -> Session {
        let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        for t in ["Xvfb", "matchbox-window-manager", "import", "xdotool", "wmctrl"] {
            need(t);
        }
        let dir = tempfile::tempdir().unwrap();
        let display = format!(":{}", 90 + display_offset + 2 * (std::process::id() % 100));
        let runtime = dir.path().join("xdg");
        std::fs::create_dir(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let mut procs = Killer(Vec::new());
        procs.0.push(
            Command::new("Xvfb")
                .args([display.as_str(), "-screen", "0", &format!("{screen}x24"), "-nolisten", "tcp"])
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
        let config_path = dir.path().join("installation.ron");
        std::fs::write(&config_path, config).unwrap();
        let status_file = dir.path().join("status.ron");
        let log = std::fs::File::create(dir.path().join("app.log")).unwrap();
        let bin = env!("CARGO_BIN_EXE_gallery-painter");
        let mut app = Command::new(bin);
        if let Some(options) = camera {
            // test-camera execs the app: the child is the app itself.
            app.arg("test-camera").args(options).arg("--").arg(bin);
        }
        app.envs(env.iter().map(|(k, v)| (k, v)));
        procs.0.push(
            app.arg("run")
                .arg("--config")
                .arg(&config_path)
                .arg("--status-file")
                .arg(&status_file)
                .args(args)
                .current_dir(super::root())
                .env("DISPLAY", &display)
                .env("WGPU_BACKEND", "vulkan")
                .env("XDG_RUNTIME_DIR", &runtime)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        Session { dir, display, procs, status_file, _one_at_a_time: guard }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("app.log")).unwrap_or_default()
    }

    pub fn field(&self, name: &str) -> String {
        field(&status(&self.status_file), name)
    }

    pub fn updates(&self) -> u64 {
        self.field("painting_updates").parse().unwrap_or(0)
    }

    pub fn shot(&self, name: &str) -> RgbImage {
        let img = screenshot(&self.display, &self.dir.path().join(name));
        if let Some(keep) = std::env::var_os("E2E_SCREENSHOTS").map(PathBuf::from) {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::copy(self.dir.path().join(name), keep.join(name)).unwrap();
        }
        img
    }

    pub fn wait(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Session) -> bool) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("timed out waiting for {what}; status:\n{}\napp log:\n{}", status(&self.status_file), self.log());
    }

    pub fn click(&self, x: u32, y: u32) {
        Command::new("xdotool")
            .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
            .env("DISPLAY", &self.display)
            .status()
            .unwrap();
    }

    pub fn app(&mut self) -> &mut Child {
        self.procs.0.last_mut().unwrap()
    }

    /// The admin chord quits cleanly.
    pub fn quit(&mut self) {
        Command::new("xdotool").args(["key", "ctrl+alt+q"]).env("DISPLAY", &self.display).status().unwrap();
        self.exits_cleanly("the admin chord");
    }

    /// The app exits with success within 20 s of `what`.
    pub fn exits_cleanly(&mut self, what: &str) {
        let end = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(st) = self.app().try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < end, "{what} did not stop the app: {}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(status.success(), "exit status {status} after {what}: {}", self.log());
    }
}
