//! `gallery-bench farm --kiosks K --painters M`: the painter farm on this machine,
//! on loopback. A nats-server from the project's config, M painter processes, and K headless
//! kiosks (the app's remote worker) whose visitors are the journey's synthetic visitor. It
//! measures what the farm does for visitors against this machine painting alone:
//! paintings per hour, queue wait, capture to first snapshot, bytes per kiosk and, with
//! painters killed on purpose, paintings lost. With `--live S`, each kiosk runs the Live
//! mirror on a synthetic camera for S seconds instead (see `live.rs`). `--servers 3` runs a
//! cluster, `--kill-server-every S` kills its servers in turn (see `servers.rs`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;

use crate::local_server::PainterProcess;
use gallery_painter::capture::Frame;
use gallery_painter::capture::synthetic::{SyntheticScene, SyntheticVisitor};
use gallery_painter::config::{EngineConfig, Policy, RemoteConfig};
use gallery_painter::engine::StyleParams;
use gallery_painter::painting::{Command, Event, Intake, StyleSelection, WorkerConfig, WorkerHandle};

mod live;
mod servers;

#[derive(Args, Debug)]
pub struct BenchFarmArgs {
    #[arg(long, default_value_t = 2)]
    pub kiosks: usize,
    #[arg(long, default_value_t = 2)]
    pub painters: usize,
    /// Visitors per kiosk (one after the other, each waits for their painting).
    #[arg(long, default_value_t = 4)]
    pub visitors: usize,
    /// Painting size (long edge, px): small on a CPU.
    #[arg(long, default_value_t = 64)]
    pub size: u32,
    #[arg(long, default_value_t = 30)]
    pub iterations: u32,
    #[arg(long, default_value_t = 1)]
    pub levels: u32,
    /// Kill a painter (kill -9) every this many seconds and start another in its place.
    #[arg(long)]
    pub kill_painter_every: Option<f64>,
    /// nats-servers: 1, or a cluster of 3 (every stream kept three times).
    #[arg(long, default_value_t = 1)]
    pub servers: usize,
    /// Kill a server (kill -9) every this many seconds, in turn, the streams' leaders
    /// included, and start it again 2 s later.
    #[arg(long)]
    pub kill_server_every: Option<f64>,
    /// Copy the servers' store folders here after the run (to look for pictures on disk).
    #[arg(long)]
    pub keep_store: Option<PathBuf>,
    /// A visitor who waited this long for their painting counts as lost.
    #[arg(long, default_value_t = 180.0)]
    pub patience_s: f64,
    /// Installation config: the engine's weights and device (painters and the local baseline).
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    /// Style image for every painting.
    #[arg(long, default_value = "assets/styles/primary_rhythm.png")]
    pub style: PathBuf,
    /// The Live mirror instead of visitors: each kiosk mirrors a synthetic camera for this
    /// many seconds (frames painted per second, camera to screen, gaps, takeovers).
    #[arg(long)]
    pub live: Option<f64>,
    /// With --live: the kiosks' `engine.remote.live_frames_per_second` (the LAN's cap; a
    /// GPU painter can take more than the default).
    #[arg(long, default_value_t = gallery_painter::config::RemoteConfig::default().live_frames_per_second)]
    pub live_frames_per_second: f64,
}

/// One visitor's painting, as their kiosk saw it.
#[derive(Clone, Debug, Default)]
struct Visit {
    first: Option<Duration>,
    queue_wait: Option<Duration>,
    finished: Option<Duration>,
}

const VISITOR: SyntheticVisitor = SyntheticVisitor::Scripted { away_s: 1.0, still_s: 2.0, stay_s: 4.0 };

pub fn run(args: BenchFarmArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.kiosks >= 1 && args.painters >= 1 && args.visitors >= 1,
        "kiosks, painters and visitors: at least 1 each"
    );
    let (cfg, root) = gallery_painter::cli::run::load_config(&args.config)?;
    let e = &cfg.engine;
    let device = gallery_painter::engine::device::select(e.device, e.precision, e.threads, e.gpu)?;
    let params = StyleParams { size: args.size, iterations: args.iterations, levels: args.levels, ..e.style.clone() };
    params.validate().map_err(anyhow::Error::msg)?;
    let selection = StyleSelection {
        key: "bench".into(),
        styles: vec![(gallery_painter::paths::resolve(&root, &args.style), 1.0)],
        params: params.clone(),
    };
    if let Some(seconds) = args.live {
        return live::run(&args, seconds, &root, e, device, selection);
    }
    let engine = EngineConfig { policy: Policy::Paint, ..e.clone() };
    let worker_config = |remote: Option<RemoteConfig>| WorkerConfig {
        intake: Intake::OnCommand,
        default_params: params.clone(),
        initial: Some(selection.clone()),
        remote,
        ..WorkerConfig::from_config(&root, &engine, device)
    };
    // On a GPU the painters and this machine paint the config's on_gpu schedule instead.
    let painted = match (e.on_gpu, device.is_cuda()) {
        (Some(gpu), true) => gpu.apply(&params, Policy::Paint),
        _ => params.clone(),
    };
    println!(
        "gallery-bench farm: {} kiosks x {} visitors, {} painters, {} px, {} iterations x {} levels{}, on {}",
        args.kiosks,
        args.visitors,
        args.painters,
        painted.size,
        painted.iterations,
        painted.levels,
        if painted == params { "" } else { " (the config's engine.on_gpu)" },
        device.describe()
    );

    // This machine painting alone, the same visitors one after the other.
    let local = gallery_painter::workers::start(worker_config(None), no_frames());
    let local_started = Instant::now();
    let local_visits = visit(&local, 0, args.visitors, Duration::from_secs_f64(args.patience_s));
    let local_elapsed = local_started.elapsed();
    drop(local);

    let farm = Farm::start(&args, &root, painted.size, "bench-kiosk-")?;
    let kiosks: Vec<WorkerHandle> = (0..args.kiosks)
        .map(|k| {
            gallery_painter::workers::start(
                worker_config(Some(RemoteConfig {
                    url: farm.servers.url(),
                    kiosk: format!("bench-kiosk-{k}"),
                    // Measure the farm, not the fallback.
                    fallback_after_s: 600.0,
                    ..Default::default()
                })),
                no_frames(),
            )
        })
        .collect();
    farm.wait_announced(&kiosks, args.painters)?;
    let started = Instant::now();
    let stop_killing = std::sync::atomic::AtomicBool::new(false);
    let killed = Mutex::new(0usize);
    let server_kills = Mutex::new(Vec::new());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        if let Some(every) = args.kill_painter_every {
            let (farm, stop, killed) = (&farm, &stop_killing, &killed);
            scope.spawn(move || farm.kill_every(every, stop, killed));
        }
        if let Some(every) = args.kill_server_every {
            let (farm, stop, kills) = (&farm, &stop_killing, &server_kills);
            scope.spawn(move || farm.servers.kill_every(every, stop, kills));
        }
        let results: Vec<Vec<Visit>> = std::thread::scope(|inner| {
            let handles: Vec<_> = kiosks
                .iter()
                .enumerate()
                .map(|(k, kiosk)| {
                    let (visitors, patience) = (args.visitors, Duration::from_secs_f64(args.patience_s));
                    inner.spawn(move || visit(kiosk, k as u64 + 1, visitors, patience))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("kiosk thread")).collect()
        });
        stop_killing.store(true, std::sync::atomic::Ordering::Relaxed);
        let elapsed = started.elapsed();
        report(&args, &kiosks, &results, (&local_visits, local_elapsed), elapsed, *killed.lock().expect("killed"));
        Ok(())
    })?;
    drop(kiosks);
    farm.after_run(&args, &server_kills)
}

/// nats-servers from the project's config and painter processes, on loopback.
struct Farm {
    servers: servers::Servers,
    logs: tempfile::TempDir,
    painters: Mutex<Vec<PainterProcess>>,
    program: PathBuf,
    root: PathBuf,
    config: String,
    max_size: String,
}

impl Farm {
    /// `max_size`: what the painters may paint (the size asked for, or the GPU schedule's);
    /// the kiosks are named `kiosk_prefix` and a number from 0.
    fn start(args: &BenchFarmArgs, root: &std::path::Path, max_size: u32, kiosk_prefix: &str) -> anyhow::Result<Farm> {
        let kiosks: Vec<String> = (0..args.kiosks).map(|k| format!("{kiosk_prefix}{k}")).collect();
        let servers = servers::Servers::start(root, args.servers, &kiosks)?;
        let mut farm = Farm {
            servers,
            logs: tempfile::tempdir()?,
            painters: Mutex::new(Vec::new()),
            program: crate::product_binary()?,
            root: root.to_path_buf(),
            config: gallery_painter::paths::resolve(root, &args.config).display().to_string(),
            max_size: max_size.to_string(),
        };
        let painters =
            (0..args.painters).map(|i| farm.start_painter(&format!("bench-{i}"))).collect::<Result<_, _>>()?;
        farm.painters = Mutex::new(painters);
        Ok(farm)
    }

    fn start_painter(&self, name: &str) -> anyhow::Result<PainterProcess> {
        PainterProcess::start(
            &self.program,
            &self.root,
            &self.servers.url(),
            name,
            self.logs.path(),
            &[("RUST_LOG", "warn")],
            &["--config", &self.config, "--max-size", &self.max_size],
        )
    }

    /// The servers killed, and what their stores hold (`farm_pictures_on_disk` must be 0).
    fn after_run(&self, args: &BenchFarmArgs, kills: &Mutex<Vec<String>>) -> anyhow::Result<()> {
        let pictures = self.servers.stores(args.keep_store.as_deref())?;
        println!("farm_server_kills: {}", kills.lock().expect("kills").len());
        println!("farm_pictures_on_disk: {pictures}");
        Ok(())
    }

    /// Waits until every kiosk sees `painters` painters announced.
    fn wait_announced(&self, kiosks: &[WorkerHandle], painters: usize) -> anyhow::Result<()> {
        let end = Instant::now() + Duration::from_secs(120);
        while kiosks.iter().any(|k| k.status().farm.is_none_or(|f| f.painters.len() < painters)) {
            anyhow::ensure!(
                Instant::now() < end,
                "the painters did not announce themselves within 2 minutes (logs in {})",
                self.logs.path().display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// Kills a painter (`kill -9`) every `every` seconds, in turn, and starts another in its
    /// place, until `stop`; counts the kills in `killed`.
    fn kill_every(&self, every: f64, stop: &std::sync::atomic::AtomicBool, killed: &Mutex<usize>) {
        repeat_every(every, stop, |n| {
            let mut p = self.painters.lock().expect("painters");
            let victim = n % p.len();
            p[victim].kill();
            *killed.lock().expect("killed") += 1;
            if let Ok(fresh) = self.start_painter(&format!("bench-r{}", n + 1)) {
                p[victim] = fresh;
            }
        });
    }
}

/// Does `act(n)` every `every` seconds (n = 0, 1, ...) until `stop` is set.
fn repeat_every(every: f64, stop: &std::sync::atomic::AtomicBool, mut act: impl FnMut(usize)) {
    let stopped = || stop.load(std::sync::atomic::Ordering::Relaxed);
    let mut n = 0;
    while !stopped() {
        let due = Instant::now() + Duration::from_secs_f64(every);
        while Instant::now() < due && !stopped() {
            std::thread::sleep(Duration::from_millis(100));
        }
        if stopped() {
            break;
        }
        act(n);
        n += 1;
    }
}

fn no_frames() -> crossbeam_channel::Receiver<Frame> {
    // Visitors come by command: nobody sends on the stream (the sender lives on with the bench).
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::mem::forget(tx);
    rx
}

/// `visitors` synthetic visitors at one kiosk, each waiting for their finished painting.
fn visit(kiosk: &WorkerHandle, kiosk_no: u64, visitors: usize, patience: Duration) -> Vec<Visit> {
    let scene = SyntheticScene::new(7 + kiosk_no, 0.0, 320, 240).with_visitor(VISITOR);
    let mut out = Vec::new();
    for v in 0..visitors {
        let seq = kiosk_no * 1000 + v as u64;
        // The journey freezes the frame while the visitor holds still.
        let frame = Frame {
            image: Arc::new(scene.render(1.0 + 0.5 * v as f32 + 1.5)),
            seq,
            captured_at: Instant::now(),
            faces: vec![],
        };
        let sent = Instant::now();
        let _ = kiosk.commands.send(Command::PaintFrame(frame));
        let mut visit = Visit::default();
        while sent.elapsed() < patience && visit.finished.is_none() {
            let Ok(event) = kiosk.events.recv_timeout(Duration::from_millis(200)) else { continue };
            if let Event::Snapshot(s) = event
                && s.frame_seq == seq
            {
                if visit.first.is_none() {
                    visit.first = Some(s.latency.unwrap_or_else(|| sent.elapsed()));
                    visit.queue_wait = kiosk.status().farm.and_then(|f| f.last_queue_wait);
                }
                if s.finished {
                    visit.finished = Some(sent.elapsed());
                }
            }
        }
        out.push(visit);
        // The visitor leaves; the next one steps up.
        let _ = kiosk.commands.send(Command::Forget);
        std::thread::sleep(Duration::from_millis(300));
    }
    out
}

fn percentile(mut v: Vec<f64>, p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    Some(v[i])
}

fn seconds(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| format!("{s:.2} s"))
}

/// `local`: the same visitors painted by this machine alone, and how long that took.
fn report(
    args: &BenchFarmArgs,
    kiosks: &[WorkerHandle],
    results: &[Vec<Visit>],
    (local, local_elapsed): (&[Visit], Duration),
    elapsed: Duration,
    killed: usize,
) {
    let all: Vec<&Visit> = results.iter().flatten().collect();
    let finished = all.iter().filter(|v| v.finished.is_some()).count();
    let lost = all.len() - finished;
    let secs = |f: fn(&Visit) -> Option<Duration>, list: &[&Visit]| -> Vec<f64> {
        list.iter().filter_map(|v| f(v)).map(|d| d.as_secs_f64()).collect()
    };
    let local_refs: Vec<&Visit> = local.iter().collect();
    let local_done = local.iter().filter(|v| v.finished.is_some()).count();
    // Both over wall time, the visitors' comings and goings included.
    let per_hour = finished as f64 / elapsed.as_secs_f64() * 3600.0;
    let local_per_hour = local_done as f64 / local_elapsed.as_secs_f64() * 3600.0;
    let farm_first = secs(|v| v.first, &all);
    let local_first = secs(|v| v.first, &local_refs);
    let queue = secs(|v| v.queue_wait, &all);
    let (redelivered, resent, bytes) = kiosks
        .iter()
        .filter_map(|k| k.status().farm)
        .fold((0, 0, 0), |(r, s, b), f| (r + f.redelivered, s + f.resent, b + f.snapshot_bytes));
    println!("| | farm ({} painters, {} kiosks) | this machine alone |", args.painters, args.kiosks);
    println!("|---|---|---|");
    println!("| paintings per hour | {per_hour:.0} | {local_per_hour:.0} |");
    println!(
        "| capture to first snapshot p50 / p95 | {} / {} | {} / {} |",
        seconds(percentile(farm_first.clone(), 0.5)),
        seconds(percentile(farm_first, 0.95)),
        seconds(percentile(local_first.clone(), 0.5)),
        seconds(percentile(local_first, 0.95))
    );
    println!(
        "| queue wait (sent to first snapshot) p50 / p95 | {} / {} | - |",
        seconds(percentile(queue.clone(), 0.5)),
        seconds(percentile(queue, 0.95))
    );
    println!(
        "| snapshot bytes per second per kiosk | {:.0} | - |",
        bytes as f64 / elapsed.as_secs_f64() / kiosks.len() as f64
    );
    println!("| painters killed / paintings taken over / sent again | {killed} / {redelivered} / {resent} | - |");
    println!("elapsed {:.1} s for {} visitors", elapsed.as_secs_f64(), all.len());
    println!("farm_paintings: {finished}");
    println!("farm_lost: {lost}");
}
