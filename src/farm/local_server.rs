//! A nats-server on this machine, from the project's config template
//! (config/farm/nats-server.conf): loopback, random ports, a temporary store, ready when its
//! /healthz says so. For `bench-farm` and the tests; a museum runs Debian's service instead.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

pub struct LocalServer {
    child: Option<Child>,
    /// `nats://127.0.0.1:PORT` (`tls://` with a security.conf).
    pub url: String,
    pub port: u16,
    pub monitor_port: u16,
    dir: tempfile::TempDir,
    template: PathBuf,
    /// Extra lines for the config (e.g. a small max_payload).
    extra: String,
    /// With TLS and users: the security.conf of scripts/farm-certs.sh.
    secure: bool,
}

impl LocalServer {
    /// Starts one on random loopback ports. `security`: a security.conf to include.
    pub fn start(root: &Path, extra: &str, security: Option<&Path>) -> anyhow::Result<LocalServer> {
        let dir = tempfile::tempdir()?;
        if let Some(conf) = security {
            // nats-server 2.9 resolves includes against the config file's folder.
            std::fs::copy(conf, dir.path().join("security.conf"))
                .with_context(|| format!("cannot read {}", conf.display()))?;
        }
        let mut s = LocalServer {
            child: None,
            url: String::new(),
            port: 0,
            monitor_port: 0,
            dir,
            template: root.join("config/farm/nats-server.conf"),
            extra: extra.to_string(),
            secure: security.is_some(),
        };
        s.launch("-1", "-1")?;
        Ok(s)
    }

    fn launch(&mut self, port: &str, http: &str) -> anyhow::Result<()> {
        let template = std::fs::read_to_string(&self.template)
            .with_context(|| format!("cannot read {}", self.template.display()))?;
        let store = self.dir.path().join("store");
        let conf = template
            .replace("@HOST@", "127.0.0.1")
            .replace("@PORT@", port)
            .replace("@HTTP_PORT@", http)
            .replace("@STORE_DIR@", &store.to_string_lossy())
            .replace("@SECURITY@", if self.secure { "include \"security.conf\"" } else { "" });
        let conf_path = self.dir.path().join("nats-server.conf");
        std::fs::write(&conf_path, format!("{conf}\n{}\n", self.extra))?;
        let ports = self.dir.path().join("ports");
        let _ = std::fs::remove_dir_all(&ports);
        std::fs::create_dir_all(&ports)?;
        let log = std::fs::File::create(self.log_path())?;
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&conf_path)
            .arg("--ports_file_dir")
            .arg(&ports)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start nats-server\n  fix: run scripts/setup.sh (it installs Debian's nats-server)")?;
        let pid = child.id();
        self.child = Some(child);
        let (url, monitor) = self.wait_for_ports(&ports.join(format!("nats-server_{pid}.ports")))?;
        self.port = url.rsplit(':').next().and_then(|p| p.parse().ok()).context("no port in the ports file")?;
        self.monitor_port = monitor.rsplit(':').next().and_then(|p| p.parse().ok()).context("no monitoring port")?;
        self.url = if self.secure { url.replace("nats://", "tls://") } else { url };
        let end = Instant::now() + Duration::from_secs(20);
        while !http_get(self.monitor_port, "/healthz?js-enabled-only=true").is_some_and(|b| b.contains("ok")) {
            anyhow::ensure!(Instant::now() < end, "nats-server is not healthy:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn wait_for_ports(&mut self, file: &Path) -> anyhow::Result<(String, String)> {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(file)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                && let (Some(url), Some(monitor)) = (v["nats"][0].as_str(), v["monitoring"][0].as_str())
            {
                return Ok((url.to_string(), monitor.to_string()));
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                anyhow::bail!("nats-server exited ({status}):\n{}", self.log());
            }
            anyhow::ensure!(Instant::now() < end, "nats-server wrote no ports file:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `kill -9`: the server is gone at once.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same ports with the same store.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let (port, http) = (self.port.to_string(), self.monitor_port.to_string());
        let end = Instant::now() + Duration::from_secs(10);
        // The port may linger a moment after the kill.
        while std::net::TcpListener::bind(("127.0.0.1", self.port)).is_err() {
            anyhow::ensure!(Instant::now() < end, "port {} stays taken", self.port);
            std::thread::sleep(Duration::from_millis(100));
        }
        self.launch(&port, &http)
    }

    /// Makes the farm's streams and buckets for these kiosks, as `farm-setup` does (a server
    /// without users: with security.conf, run `gallery-painter farm-setup --user admin`).
    pub fn set_up_farm(&self, kiosks: &[&str]) -> anyhow::Result<()> {
        let kiosks: Vec<String> = kiosks.iter().map(|k| k.to_string()).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let client = async_nats::connect(&self.url).await?;
            let js = async_nats::jetstream::new(client.clone());
            super::setup::set_up(&js, &kiosks, super::connection::max_payload(&client))
                .await
                .map_err(|e| anyhow::anyhow!("cannot set the farm up: {e}"))?;
            Ok(())
        })
    }

    /// The monitoring endpoint's JSON (e.g. `/jsz?streams=true`).
    pub fn monitor(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let body = http_get(self.monitor_port, path).context("the monitoring port does not answer")?;
        Ok(serde_json::from_str(&body)?)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop();
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

/// A `gallery-painter painter` process (this binary), killed on drop.
pub struct PainterProcess {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl PainterProcess {
    /// `program`: the gallery-painter binary; `args` after `painter --nats URL --name NAME`.
    pub fn start(
        program: &Path,
        root: &Path,
        url: &str,
        name: &str,
        log_dir: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> anyhow::Result<PainterProcess> {
        let log = log_dir.join(format!("{name}.log"));
        let mut cmd = Command::new(program);
        cmd.args(["painter", "--nats", url, "--name", name])
            .args(args)
            .current_dir(root)
            .env_remove(crate::service::faults::ENV)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().with_context(|| format!("cannot start {}", program.display()))?;
        Ok(PainterProcess { name: name.into(), child, log })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM (`systemctl stop`): the painter hands its job back and exits; waits for it.
    pub fn terminate(&mut self) -> anyhow::Result<()> {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        self.child.wait()?;
        Ok(())
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
