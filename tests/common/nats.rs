//! A real nats-server (Debian's package) for the farm tests: the project's own config
//! template, a random loopback port, a temporary store, ready when /healthz says so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct NatsServer {
    child: Option<Child>,
    pub url: String,
    pub port: u16,
    pub monitor_port: u16,
    dir: tempfile::TempDir,
    /// Extra lines for the config (e.g. a small max_payload).
    extra: String,
    /// `include "security.conf"` made by scripts/farm-certs.sh, or nothing (an open farm).
    security: String,
}

impl NatsServer {
    pub fn start() -> NatsServer {
        Self::start_with("")
    }

    pub fn start_with(extra: &str) -> NatsServer {
        super::browser::need("nats-server");
        let dir = tempfile::tempdir().unwrap();
        let mut s = NatsServer {
            child: None,
            url: String::new(),
            port: 0,
            monitor_port: 0,
            dir,
            extra: extra.to_string(),
            security: String::new(),
        };
        s.launch("-1", "-1");
        s
    }

    /// With TLS and users from `scripts/farm-certs.sh` (made in `certs`).
    pub fn start_secure(certs: &Path) -> NatsServer {
        let dir = tempfile::tempdir().unwrap();
        let mut s = NatsServer {
            child: None,
            url: String::new(),
            port: 0,
            monitor_port: 0,
            dir,
            extra: String::new(),
            // nats-server 2.9 reads includes relative to the config file: the copy goes beside it.
            security: "include \"security.conf\"".into(),
        };
        std::fs::copy(certs.join("security.conf"), s.dir.path().join("security.conf")).unwrap();
        s.launch("-1", "-1");
        s
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.conf")
    }

    fn launch(&mut self, port: &str, http: &str) {
        let template = std::fs::read_to_string(super::root().join("config/farm/nats-server.conf")).unwrap();
        let store = self.dir.path().join("store");
        let conf = template
            .replace("@HOST@", "127.0.0.1")
            .replace("@PORT@", port)
            .replace("@HTTP_PORT@", http)
            .replace("@STORE_DIR@", store.to_str().unwrap())
            .replace("@SECURITY@", &self.security);
        std::fs::write(self.conf_path(), format!("{conf}\n{}\n", self.extra)).unwrap();
        let ports = self.dir.path().join("ports");
        let _ = std::fs::remove_dir_all(&ports);
        std::fs::create_dir_all(&ports).unwrap();
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(self.conf_path())
            .arg("--ports_file_dir")
            .arg(&ports)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let (url, monitor) = wait_for_ports(&ports, child.id(), &self.dir.path().join("server.log"));
        self.port = url.rsplit(':').next().unwrap().parse().unwrap();
        self.monitor_port = monitor.rsplit(':').next().unwrap().parse().unwrap();
        // The ports file says nats://; with security.conf the clients speak TLS.
        self.url = if self.security.is_empty() { url } else { url.replace("nats://", "tls://") };
        self.child = Some(child);
        self.wait_healthy();
    }

    fn wait_healthy(&self) {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if http_get(self.monitor_port, "/healthz").is_some_and(|b| b.contains("ok")) {
                return;
            }
            assert!(Instant::now() < end, "nats-server not healthy: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`: the server is gone at once.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same ports with the same store.
    pub fn restart(&mut self) {
        self.stop();
        let (port, http) = (self.port.to_string(), self.monitor_port.to_string());
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            // The port may linger a moment after the kill.
            if std::net::TcpListener::bind(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            assert!(Instant::now() < end, "port {} stays taken", self.port);
            std::thread::sleep(Duration::from_millis(100));
        }
        self.launch(&port, &http);
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The monitoring endpoint's JSON (e.g. `/jsz?consumers=true`).
    pub fn monitor(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&http_get(self.monitor_port, path).expect("monitoring answers")).unwrap()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_for_ports(dir: &Path, pid: u32, log: &Path) -> (String, String) {
    let file = dir.join(format!("nats-server_{pid}.ports"));
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(&file)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        {
            let url = v["nats"][0].as_str().unwrap().to_string();
            let monitor = v["monitoring"][0].as_str().unwrap().to_string();
            return (url, monitor);
        }
        assert!(
            Instant::now() < end,
            "nats-server wrote no ports file: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then(|| body.to_string())
}

/// A `gallery-painter painter` process, killed on drop.
pub struct PainterProcess {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl PainterProcess {
    pub fn start(url: &str, name: &str, dir: &Path, faults: Option<&str>) -> PainterProcess {
        Self::start_with(url, name, dir, faults, &[])
    }

    pub fn start_with(url: &str, name: &str, dir: &Path, faults: Option<&str>, args: &[&str]) -> PainterProcess {
        let log = dir.join(format!("{name}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gallery-painter"));
        cmd.args(["painter", "--nats", url, "--name", name, "--max-size", "256"])
            .args(args)
            .current_dir(super::root())
            .env("RUST_LOG", "info")
            .env_remove(gallery_painter::service::faults::ENV)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(f) = faults {
            cmd.env(gallery_painter::service::faults::ENV, f);
        }
        PainterProcess { name: name.into(), child: cmd.spawn().unwrap(), log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`: no goodbye, the job in hand is simply abandoned.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PainterProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
