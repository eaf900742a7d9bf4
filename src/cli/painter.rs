//! `gallery-painter painter`: paint for the kiosks of a farm (one process per GPU).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;

use crate::farm::FarmConnection;
use crate::farm::painter_service::{PainterOptions, serve};

/// How a farm command reaches the servers (painter, farm-setup).
#[derive(Args, Debug)]
pub struct FarmLogin {
    /// The farm's NATS server (several, separated by commas, for a cluster).
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// The user on the server (scripts/farm-certs.sh: a painter's `--painter NAME`, or
    /// `admin` for farm-setup), with --password-file.
    #[arg(long, requires = "password_file")]
    pub user: Option<String>,
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// The farm's private CA certificate (turns TLS on).
    #[arg(long)]
    pub ca: Option<PathBuf>,
}

impl FarmLogin {
    pub fn connection(self) -> FarmConnection {
        FarmConnection { url: self.nats, user: self.user, password_file: self.password_file, ca: self.ca }
    }
}

#[derive(Args, Debug)]
pub struct PainterArgs {
    #[command(flatten)]
    pub login: FarmLogin,
    /// This painter's name on the farm (default: its --user, else the host name).
    #[arg(long)]
    pub name: Option<String>,
    /// Installation config: the engine's weights, device, precision and GPU levers.
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    /// Jobs asking for a larger painting are painted at this size.
    #[arg(long, default_value_t = 2048)]
    pub max_size: u32,
    /// This painter's identity (identities/NAME of scripts/farm-certs.sh): needed with --user.
    /// It paints only jobs signed by their kiosks and signs its announcements.
    #[arg(long)]
    pub identity: Option<PathBuf>,
}

pub fn run(args: PainterArgs) -> anyhow::Result<()> {
    let (cfg, root) = super::run::load_config(&args.config)?;
    let e = &cfg.engine;
    let device = crate::engine::device::select(e.device, e.precision, e.threads, e.gpu)?;
    let faults = match std::env::var(crate::service::faults::ENV) {
        Ok(text) => crate::service::faults::parse(&text).map_err(anyhow::Error::msg)?,
        Err(_) => Vec::new(),
    };
    // A painter announces itself under its user's name: the server lets each painter user
    // write its own announcement only (scripts/farm-certs.sh --painter NAME).
    let name = match (&args.name, &args.login.user) {
        (Some(n), Some(u)) if n != u => anyhow::bail!(
            "--name {n} differs from --user {u}: a painter's name on the farm is its user\n  fix: leave --name out"
        ),
        (Some(n), _) | (None, Some(n)) => n.clone(),
        (None, None) => host_name(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    serve(
        PainterOptions {
            name,
            connection: args.login.connection(),
            weights: crate::paths::resolve(&root, &e.weights),
            device,
            max_size: args.max_size.clamp(32, 4096),
            on_gpu: e.on_gpu,
            faults,
            identity: args.identity,
        },
        stop,
    )
}

/// The host name as one subject token.
fn host_name() -> String {
    let name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let name: String =
        name.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(64).collect();
    if name.is_empty() { "painter".into() } else { name }
}
