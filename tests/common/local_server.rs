//! A nats-server on this machine, from the project's config template
//! (config/farm/nats-server.conf): loopback, random ports, a temporary store, ready when its
//! /healthz says so; or a cluster of them (config/farm/nats-cluster.conf); and painter
//! processes. For the tests and `gallery-bench farm`; a museum runs Debian's service instead.

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
    /// A member of a cluster: its name, cluster port and every member's cluster port.
    cluster: Option<ClusterPlace>,
    /// What `set_up_farm` made (kiosks, replicas): made again after a restart of a single
    /// server, as the server's unit does after each start (its memory streams are gone).
    farm: Option<(Vec<String>, usize)>,
}

/// One server's place in a [`LocalCluster`].
#[derive(Clone)]
struct ClusterPlace {
    name: String,
    port: u16,
    routes: Vec<u16>,
}

/// A port free now on loopback (for addresses the servers must know before they start).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
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
            cluster: None,
            farm: None,
        };
        s.launch("-1", "-1")?;
        Ok(s)
    }

    /// Where JetStream keeps what it writes to disk.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// This server's name in its cluster, if it is in one.
    pub fn name(&self) -> Option<&str> {
        self.cluster.as_ref().map(|c| c.name.as_str())
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
            .replace("@SECURITY@", if self.secure { "include \"security.conf\"" } else { "" })
            .replace("@CLUSTER@", if self.cluster.is_some() { "include \"cluster.conf\"" } else { "" });
        if let Some(c) = &self.cluster {
            let template = self.template.with_file_name("nats-cluster.conf");
            let text =
                std::fs::read_to_string(&template).with_context(|| format!("cannot read {}", template.display()))?;
            let routes: Vec<String> = c.routes.iter().map(|p| format!("\"nats-route://127.0.0.1:{p}\"")).collect();
            let text = text
                .replace("@NAME@", &c.name)
                .replace("@HOST@", "127.0.0.1")
                .replace("@CLUSTER_PORT@", &c.port.to_string())
                .replace("@ROUTES@", &routes.join(", "))
                .replace("@ROUTE_TLS@", "");
            std::fs::write(self.dir.path().join("cluster.conf"), text)?;
        }
        let conf_path = self.dir.path().join("nats-server.conf");
        let extra = self.extra.replace("@STORE_DIR@", &store.to_string_lossy());
        std::fs::write(&conf_path, format!("{conf}\n{extra}\n"))?;
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
        self.launch(&port, &http)?;
        if self.cluster.is_none()
            && let Some((kiosks, replicas)) = self.farm.clone()
        {
            let kiosks: Vec<&str> = kiosks.iter().map(String::as_str).collect();
            self.set_up_farm_with(&kiosks, replicas)?;
        }
        Ok(())
    }

    /// Makes the farm's streams and buckets for these kiosks, as `farm-setup` does (a server
    /// without users: with security.conf, run `gallery-painter farm-setup --user admin`).
    pub fn set_up_farm(&mut self, kiosks: &[&str]) -> anyhow::Result<()> {
        self.set_up_farm_with(kiosks, 1)
    }

    fn set_up_farm_with(&mut self, kiosks: &[&str], replicas: usize) -> anyhow::Result<()> {
        let kiosks: Vec<String> = kiosks.iter().map(|k| k.to_string()).collect();
        set_up(&self.url, &kiosks, replicas)?;
        self.farm = Some((kiosks, replicas));
        Ok(())
    }

    /// The monitoring endpoint's JSON (e.g. `/jsz?streams=true`).
    pub fn monitor(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let body = http_get(self.monitor_port, path).context("the monitoring port does not answer")?;
        Ok(serde_json::from_str(&body)?)
    }
}

/// `farm-setup` on `url` (a server without users).
fn set_up(url: &str, kiosks: &[String], replicas: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let urls = gallery_painter::config::server_urls(url);
        let client = async_nats::connect(urls.as_slice()).await?;
        let js = async_nats::jetstream::new(client.clone());
        gallery_painter::farm::setup::set_up(
            &js,
            kiosks,
            gallery_painter::farm::connection::max_payload(&client),
            replicas,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot set the farm up: {e}"))?;
        Ok(())
    })
}

/// Files under a server's store holding PNG or JPEG bytes, outside the style stores: visitors'
/// pictures that reached a disk. A file stream's replication log (`$SYS/_js_/S-R3F-*`, named
/// by group, not stream) is left out: what it holds is also in the stream's own folder, which
/// is scanned (the style store's log holds the style images).
pub fn pictures_on_disk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let (path, name) = (e.path(), e.file_name().to_string_lossy().into_owned());
            let file_stream_log = name.starts_with("S-R") && name.split('-').nth(1).is_some_and(|g| g.ends_with('F'));
            if path.is_dir() {
                if !file_stream_log && !name.starts_with("OBJ_gp-styles") {
                    stack.push(path);
                }
            } else if let Ok(bytes) = std::fs::read(&path)
                && (bytes.windows(4).any(|w| w == b"\x89PNG") || bytes.windows(3).any(|w| w == b"\xff\xd8\xff"))
            {
                found.push(path);
            }
        }
    }
    found
}

/// Copies a server's store (`--keep-store`), to look at after the run.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// Several nats-servers on this machine in one JetStream cluster (routes on loopback).
pub struct LocalCluster {
    pub servers: Vec<LocalServer>,
}

impl LocalCluster {
    /// Starts `n` servers and waits until they have elected a leader.
    pub fn start(root: &Path, n: usize, extra: &str) -> anyhow::Result<LocalCluster> {
        let ports =
            (0..n).map(|_| Ok((free_port()?, free_port()?, free_port()?))).collect::<anyhow::Result<Vec<_>>>()?;
        let routes: Vec<u16> = ports.iter().map(|p| p.2).collect();
        let mut servers = Vec::new();
        for (i, (client, http, cluster)) in ports.iter().enumerate() {
            let mut s = LocalServer {
                child: None,
                url: String::new(),
                port: 0,
                monitor_port: 0,
                dir: tempfile::tempdir()?,
                template: root.join("config/farm/nats-server.conf"),
                extra: extra.to_string(),
                secure: false,
                cluster: Some(ClusterPlace { name: format!("farm-{}", i + 1), port: *cluster, routes: routes.clone() }),
                farm: None,
            };
            s.launch(&client.to_string(), &http.to_string())?;
            servers.push(s);
        }
        let c = LocalCluster { servers };
        c.wait_for_leader(Duration::from_secs(30))?;
        Ok(c)
    }

    /// Every server's address, as kiosks and painters are given them.
    pub fn urls(&self) -> String {
        self.servers.iter().map(|s| s.url.as_str()).collect::<Vec<_>>().join(",")
    }

    /// `farm-setup --replicas N` (N: the cluster's size).
    pub fn set_up_farm(&self, kiosks: &[&str]) -> anyhow::Result<()> {
        let kiosks: Vec<String> = kiosks.iter().map(|k| k.to_string()).collect();
        set_up(&self.urls(), &kiosks, self.servers.len())
    }

    /// Until the servers that run agree on a meta leader.
    pub fn wait_for_leader(&self, within: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + within;
        loop {
            let led = self.servers.iter().filter(|s| s.child.is_some()).all(|s| {
                s.monitor("/jsz").is_ok_and(|j| j["meta_cluster"]["leader"].as_str().is_some_and(|l| !l.is_empty()))
            });
            if led {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < end, "the cluster elected no leader:\n{}", self.servers[0].log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The server leading `stream` now (its copy takes the writes), by name.
    pub fn leader_of(&self, stream: &str) -> Option<String> {
        self.servers.iter().filter(|s| s.child.is_some()).find_map(|s| {
            let j = s.monitor("/jsz?streams=true").ok()?;
            let details = j["account_details"]
                .as_array()?
                .iter()
                .flat_map(|a| a["stream_detail"].as_array().cloned().unwrap_or_default());
            details
                .into_iter()
                .find(|d| d["name"] == stream)
                .and_then(|d| d["cluster"]["leader"].as_str().map(String::from))
        })
    }

    /// The server named `name`.
    pub fn server(&mut self, name: &str) -> Option<&mut LocalServer> {
        self.servers.iter_mut().find(|s| s.name() == Some(name))
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
            .env_remove(gallery_painter::service::faults::ENV)
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
