//! The farm's servers for `gallery-bench farm`: one nats-server or a cluster (`--servers 3`), killed
//! in turn on purpose (`--kill-server-every S`), their stores kept (`--keep-store DIR`) and
//! scanned for pictures after the run.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::local_server::{LocalCluster, LocalServer, copy_dir, pictures_on_disk};
use gallery_painter::farm::protocol;

pub(super) enum Servers {
    One(Mutex<LocalServer>),
    Cluster(Mutex<LocalCluster>),
}

/// A killed server stays down this long before it starts again.
const DOWN_FOR: Duration = Duration::from_secs(2);

impl Servers {
    /// `n` servers (1, or a cluster of 3 or 5) with the farm set up for `kiosks`.
    pub(super) fn start(root: &Path, n: usize, kiosks: &[String]) -> anyhow::Result<Servers> {
        let kiosks: Vec<&str> = kiosks.iter().map(String::as_str).collect();
        if n == 1 {
            let mut server = LocalServer::start(root, "", None)?;
            server.set_up_farm(&kiosks)?;
            return Ok(Servers::One(Mutex::new(server)));
        }
        anyhow::ensure!(n == 3 || n == 5, "--servers {n}: a JetStream cluster has 3 or 5 servers");
        let cluster = LocalCluster::start(root, n, "")?;
        // The streams' groups are placed a moment after the election.
        let end = Instant::now() + Duration::from_secs(30);
        while let Err(e) = cluster.set_up_farm(&kiosks) {
            anyhow::ensure!(Instant::now() < end, "farm-setup on the cluster: {e}");
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(Servers::Cluster(Mutex::new(cluster)))
    }

    /// Every server's address, comma-separated, as kiosks and painters are given them.
    pub(super) fn url(&self) -> String {
        match self {
            Servers::One(s) => s.lock().expect("server").url.clone(),
            Servers::Cluster(c) => c.lock().expect("cluster").urls(),
        }
    }

    /// Kills a server (`kill -9`) every `every` seconds, in turn, and starts it again after
    /// [`DOWN_FOR`], until `stop`; says which one led `GP_JOBS`. The kills are listed in `kills`.
    pub(super) fn kill_every(&self, every: f64, stop: &AtomicBool, kills: &Mutex<Vec<String>>) {
        super::repeat_every(every, stop, |n| {
            let what = match self {
                Servers::One(s) => {
                    let mut s = s.lock().expect("server");
                    s.stop();
                    std::thread::sleep(DOWN_FOR);
                    // As the unit's ExecStartPost: the setup is made again after the start.
                    if let Err(e) = s.restart() {
                        println!("gallery-bench farm: the server did not start again: {e}");
                    }
                    "the server".to_string()
                }
                Servers::Cluster(c) => {
                    let mut c = c.lock().expect("cluster");
                    let leader = c.leader_of(protocol::JOBS_STREAM).unwrap_or_default();
                    let count = c.servers.len();
                    let victim = &mut c.servers[n % count];
                    let name = victim.name().unwrap_or_default().to_string();
                    victim.stop();
                    std::thread::sleep(DOWN_FOR);
                    if let Err(e) = victim.restart() {
                        println!("gallery-bench farm: {name} did not start again: {e}");
                    }
                    let _ = c.wait_for_leader(Duration::from_secs(30));
                    format!("{name} (GP_JOBS led by {})", if leader.is_empty() { "nobody" } else { &leader })
                }
            };
            println!("gallery-bench farm: killed {what} and started it again after {} s", DOWN_FOR.as_secs());
            kills.lock().expect("kills").push(what);
        });
    }

    /// After the run: the stores copied to `keep` (if given), and the files holding pictures.
    pub(super) fn stores(&self, keep: Option<&Path>) -> anyhow::Result<usize> {
        let dirs: Vec<(String, std::path::PathBuf)> = match self {
            Servers::One(s) => vec![("server".into(), s.lock().expect("server").store_dir())],
            Servers::Cluster(c) => c
                .lock()
                .expect("cluster")
                .servers
                .iter()
                .map(|s| (s.name().unwrap_or("server").to_string(), s.store_dir()))
                .collect(),
        };
        let mut pictures = 0;
        for (name, dir) in dirs {
            if let Some(keep) = keep {
                copy_dir(&dir, &keep.join(&name))?;
                println!("gallery-bench farm: {name}'s store kept in {}", keep.join(&name).display());
            }
            for p in pictures_on_disk(&dir) {
                println!("gallery-bench farm: a picture on {name}'s disk: {}", p.display());
                pictures += 1;
            }
        }
        Ok(pictures)
    }
}
