//! The technician's checks, which start nothing: check-config, list-cameras, check-camera, status.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::config::SourceConfig;
use crate::scene::Scene;

use super::run::load_config;

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    /// Scene files to check (default: the config's scene and every scenes/*.ron).
    pub scenes: Vec<PathBuf>,
}

/// Validates config and scenes without starting anything; prints what is wrong and how to fix it.
pub fn check_config(args: CheckArgs) -> anyhow::Result<()> {
    let (cfg, root) = load_config(&args.config)?;
    println!(
        "ok   {} (source {:?}, policy {:?}, size {} px{})",
        args.config.display(),
        source_name(&cfg.source),
        cfg.engine.policy,
        cfg.engine.style.size,
        cfg.engine.on_gpu.map_or(String::new(), |g| format!(
            "; on a GPU {} px, {} levels x {} iterations, Live {} px",
            g.size, g.levels, g.iterations, g.live_size
        ))
    );
    let weights = crate::paths::resolve(&root, &cfg.engine.weights);
    let mut failures = 0;
    if weights.is_file() {
        println!("ok   weights {}", weights.display());
    } else {
        failures += 1;
        println!("FAIL weights {} missing\n  fix: run scripts/setup.sh", weights.display());
    }
    if cfg.faces.enabled {
        match crate::capture::faces::FaceModel::for_config(&root, &cfg.faces) {
            Ok(_) => println!("ok   face detector {:?} {}", cfg.faces.detector, cfg.faces.model_path().display()),
            Err(e) => {
                failures += 1;
                println!("FAIL {e}");
            }
        }
    }
    match crate::i18n::Catalog::load(&cfg.language, &root) {
        Ok(texts) => println!(
            "ok   visitor texts in {} (default {}): {} messages each",
            texts.languages().collect::<Vec<_>>().join(", "),
            cfg.language.default,
            texts.keys().len()
        ),
        Err(e) => {
            failures += 1;
            println!("FAIL {e}");
        }
    }
    let mut scenes = args.scenes.clone();
    if scenes.is_empty() {
        scenes.push(cfg.scene.clone());
        if let Ok(dir) = std::fs::read_dir(root.join("scenes")) {
            let mut more: Vec<PathBuf> = dir
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "ron"))
                .collect();
            more.sort();
            for p in more {
                let rel = p.strip_prefix(&root).map(|r| r.to_path_buf()).unwrap_or(p);
                if !scenes.contains(&rel) {
                    scenes.push(rel);
                }
            }
        }
    }
    for s in scenes {
        match Scene::load(&crate::paths::resolve(&root, &s), &root, &cfg.engine.style) {
            Ok(scene) => println!("ok   {} ({}: {} artworks)", s.display(), scene.name, scene.entries.len()),
            Err(e) => {
                failures += 1;
                println!("FAIL {e}");
            }
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} problem(s) found");
    }
    Ok(())
}

fn source_name(s: &SourceConfig) -> &'static str {
    match s {
        SourceConfig::Camera(_) => "camera",
        SourceConfig::Still { .. } => "still",
        SourceConfig::Slideshow { .. } => "slideshow",
        SourceConfig::Synthetic { .. } => "synthetic",
    }
}

pub fn list_cameras() -> anyhow::Result<()> {
    match crate::capture::camera::list() {
        Ok(cams) if cams.is_empty() => println!("no cameras found (the installation will use its fallback source)"),
        Ok(cams) => {
            for cam in cams {
                println!("{}: {} ({})", cam.index, cam.name, cam.description);
                match cam.formats {
                    Ok(formats) => {
                        // One line per pixel format: its sizes, each with its frame rates.
                        let mut kinds: Vec<String> = formats.iter().map(|f| f.format().to_string()).collect();
                        kinds.sort();
                        kinds.dedup();
                        for kind in kinds {
                            let mut sizes: Vec<(u32, u32, Vec<u32>)> = Vec::new();
                            for f in formats.iter().filter(|f| f.format().to_string() == kind) {
                                match sizes.iter_mut().find(|s| (s.0, s.1) == (f.width(), f.height())) {
                                    Some(s) => s.2.push(f.frame_rate()),
                                    None => sizes.push((f.width(), f.height(), vec![f.frame_rate()])),
                                }
                            }
                            // Largest first, fastest first: the order a technician compares them in.
                            sizes.sort_by_key(|s| std::cmp::Reverse(s.0 * s.1));
                            for s in &mut sizes {
                                s.2.sort_by_key(|f| std::cmp::Reverse(*f));
                                s.2.dedup();
                            }
                            let text: Vec<String> = sizes
                                .iter()
                                .map(|(w, h, fps)| {
                                    let fps: Vec<String> = fps.iter().map(|f| f.to_string()).collect();
                                    format!("{w}x{h} @ {} fps", fps.join("/"))
                                })
                                .collect();
                            println!("    {kind}: {}", text.join(", "));
                        }
                    }
                    Err(e) => println!("    cannot ask it for its formats: {e}"),
                }
            }
        }
        Err(e) => println!("no cameras found: {e}"),
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct CheckCameraArgs {
    /// The installation config whose `source: Camera(..)` to check (index, size, fps, mirror).
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    /// Check this camera index instead of the config's camera.
    #[arg(long)]
    pub index: Option<u32>,
    /// Ask for this size (WxH) instead of the config's.
    #[arg(long)]
    pub size: Option<String>,
    #[arg(long)]
    pub fps: Option<u32>,
    /// Mirror left-right (overrides the config).
    #[arg(long)]
    pub mirror: Option<bool>,
    /// How long to watch, seconds.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Save the last frame here (PNG).
    #[arg(long)]
    pub snapshot: Option<PathBuf>,
}

/// Opens the camera through the same capture thread the installation uses (no stand-in) and
/// prints its state twice a second: a technician's check of a camera setup.
pub fn check_camera(args: CheckCameraArgs) -> anyhow::Result<()> {
    use crate::capture::camera::CameraSource;
    use crate::capture::{CaptureOptions, CaptureState, FrameSource, spawn_capture};
    let (cfg, _) = load_config(&args.config)?;
    let mut camera = match cfg.source {
        SourceConfig::Camera(c) => c,
        _ => crate::config::CameraConfig::default(),
    };
    if let Some(i) = args.index {
        camera.index = i;
        camera.name = None;
    }
    if let Some(size) = &args.size {
        let (w, h) = size.split_once('x').context("--size: write it as WIDTHxHEIGHT, e.g. 640x480")?;
        (camera.width, camera.height) = (w.parse()?, h.parse()?);
    }
    camera.fps = args.fps.unwrap_or(camera.fps);
    camera.mirror = args.mirror.unwrap_or(camera.mirror);
    println!(
        "checking camera {} for {:.0} s (asking for {}x{} at {} fps, mirror {})",
        camera.name.clone().unwrap_or_else(|| camera.index.to_string()),
        args.seconds,
        camera.width,
        camera.height,
        camera.fps,
        camera.mirror
    );
    let options = CaptureOptions { backoff_start: Duration::from_millis(300), ..CaptureOptions::default() };
    let mut capture = spawn_capture(
        Box::new(move || CameraSource::open(&camera).map(|c| Box::new(c) as Box<dyn FrameSource>)),
        None,
        options,
    );
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed().as_secs_f64() < args.seconds {
        std::thread::sleep(Duration::from_millis(500));
        let s = capture.status();
        let state = match &s.state {
            CaptureState::Lost { reason, .. } => format!("lost ({reason})"),
            CaptureState::Stalled { since } => format!("stalled ({:.1} s without a frame)", since.as_secs_f64()),
            other => format!("{other:?}").to_lowercase(),
        };
        let size = s.latest.as_ref().map(|f| format!("{}x{}", f.image.width(), f.image.height())).unwrap_or_default();
        println!(
            "t={:.1} state={state} frames={} fps={:.1} bad_frames={} reconnects={} size={size} source={}",
            start.elapsed().as_secs_f64(),
            s.frames,
            s.fps,
            s.bad_frames,
            s.reconnects,
            s.source
        );
        last = s.latest.or(last);
    }
    capture.stop();
    if let (Some(path), Some(frame)) = (&args.snapshot, &last) {
        frame.image.save(path).with_context(|| format!("cannot write {}", path.display()))?;
        println!("saved the last frame to {}", path.display());
    }
    println!("cpu_seconds={:.2}", cpu_seconds());
    if last.is_none() {
        anyhow::bail!(
            "no frame from the camera\n  fix: check `list-cameras`, the cable, and that no other program uses it"
        );
    }
    Ok(())
}

/// User + system CPU time of this process so far (Linux), seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based); here indices 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// Where the service writes its status (the unit passes `--status-file` with this path).
pub fn default_status_file() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("gallery-painter/status.ron"),
        None => std::env::temp_dir().join("gallery-painter-status.ron"),
    }
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The status file `run --status-file` writes (default: the service's).
    #[arg(long)]
    pub file: Option<PathBuf>,
}

/// One screen for the technician, from the status file.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let path = args.file.unwrap_or_else(default_status_file);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the status file {}\n  fix: is the installation running? (`systemctl --user status gallery-painter`; started by hand, pass `run --status-file {}`)",
            path.display(),
            path.display()
        )
    })?;
    let report: crate::service::status::StatusReport =
        ron::from_str(&text).with_context(|| format!("{} is not a status report", path.display()))?;
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    print!("{}", report.render(&path.display().to_string(), (now - report.written_unix_s).max(0.0)));
    Ok(())
}
