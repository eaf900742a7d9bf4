//! Technician commands: run, check-config, list-cameras.

use std::path::PathBuf;

use clap::Args;

use crate::config::InstallationConfig;
use crate::config::SourceConfig;
use crate::scene::Scene;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyArg {
    Paint,
    Live,
}

impl From<PolicyArg> for crate::config::Policy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Paint => crate::config::Policy::Paint,
            PolicyArg::Live => crate::config::Policy::Live,
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Installation config (RON).
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    /// Use a window instead of fullscreen (development).
    #[arg(long)]
    pub windowed: bool,
    /// Override the scene file.
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// Ignore the camera: the synthetic demo scene, with a scripted visitor on a loop.
    #[arg(long)]
    pub demo: bool,
    /// Override the refinement policy.
    #[arg(long, value_enum)]
    pub policy: Option<PolicyArg>,
    /// Override the painting size (longer edge, px).
    #[arg(long)]
    pub size: Option<u32>,
    /// Write a status report (RON) here twice a second.
    #[arg(long)]
    pub status_file: Option<PathBuf>,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            config: "config/installation.ron".into(),
            windowed: false,
            scene: None,
            demo: false,
            policy: None,
            size: None,
            status_file: None,
        }
    }
}

pub fn load_config(path: &std::path::Path) -> anyhow::Result<(InstallationConfig, PathBuf)> {
    let root = crate::paths::project_root();
    let full = crate::paths::resolve(&root, path);
    let cfg = InstallationConfig::load(&full)?;
    Ok((cfg, root))
}

#[cfg(not(feature = "gui"))]
pub fn run(_: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "this binary was built without the display (feature `gui`)\n  fix: build with default features: cargo build --release"
    )
}

#[cfg(feature = "gui")]
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let (mut cfg, root) = load_config(&args.config)?;
    if let Some(s) = args.scene {
        cfg.scene = s;
    }
    if args.demo {
        cfg.source = cfg.fallback.clone();
        if matches!(cfg.source, SourceConfig::Camera(_)) {
            cfg.source = SourceConfig::demo();
        }
        // The synthetic visitor is nobody's portrait: the attract loop may show its paintings.
        if cfg.journey.show_recent_paintings == 0 {
            cfg.journey.show_recent_paintings = 4;
        }
    }
    if let Some(policy) = args.policy {
        cfg.engine.policy = policy.into();
    }
    if let Some(size) = args.size {
        cfg.engine.style.size = size;
    }
    crate::app::run(cfg, &root, crate::app::RunOptions { windowed: args.windowed, status_file: args.status_file })
}

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
        "ok   {} (source {:?}, policy {:?}, size {} px)",
        args.config.display(),
        source_name(&cfg.source),
        cfg.engine.policy,
        cfg.engine.style.size
    );
    let weights = crate::paths::resolve(&root, &cfg.engine.weights);
    let mut failures = 0;
    if weights.is_file() {
        println!("ok   weights {}", weights.display());
    } else {
        failures += 1;
        println!("FAIL weights {} missing\n  fix: run scripts/setup.sh", weights.display());
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
            for (index, name, desc) in cams {
                println!("{index}: {name} ({desc})");
            }
        }
        Err(e) => println!("no cameras found: {e}"),
    }
    Ok(())
}
