//! `run`: the installation, from the config file and the command line's overrides.

use std::path::PathBuf;

use clap::Args;

use crate::config::InstallationConfig;
#[cfg(feature = "gui")]
use crate::config::SourceConfig;

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
    /// The camera must be there: no demo fallback, unhealthy until it opens (the service).
    #[arg(long)]
    pub camera_required: bool,
    /// Write a status report (RON) here twice a second.
    #[arg(long)]
    pub status_file: Option<PathBuf>,
    /// Keep the scene position, a visitor's pick and the counters here, and continue from
    /// them at the next start (the service uses one).
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// Serve the curator console on this address (IP:PORT), whatever the config says.
    #[arg(long, value_name = "ADDR")]
    pub console: Option<String>,
    /// Paint on the painter farm at this NATS address (nats://HOST:PORT), as this kiosk
    /// (--kiosk), whatever the config says.
    #[arg(long, value_name = "URL")]
    pub farm: Option<String>,
    /// This kiosk's name on the farm (with --farm).
    #[arg(long, requires = "farm")]
    pub kiosk: Option<String>,
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
            camera_required: false,
            status_file: None,
            state_file: None,
            console: None,
            farm: None,
            kiosk: None,
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
        // Asked for on the command line: this size on every device.
        cfg.engine.style.size = size;
        cfg.engine.on_gpu = None;
    }
    if args.camera_required {
        cfg.camera_required = true;
    }
    if let Some(address) = args.console {
        cfg.console.enabled = true;
        cfg.console.listen = address;
    }
    if let Some(url) = args.farm {
        let remote = cfg.engine.remote.get_or_insert_with(Default::default);
        remote.url = url;
        if let Some(kiosk) = args.kiosk {
            remote.kiosk = kiosk;
        }
    }
    // The overrides go through the same bounds as the file.
    cfg.validate(&crate::paths::resolve(&root, &args.config))?;
    crate::app::run(
        cfg,
        &root,
        crate::app::RunOptions { windowed: args.windowed, status_file: args.status_file, state_file: args.state_file },
    )
}
