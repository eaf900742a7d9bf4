//! The command line: `run` starts the installation; the rest are tools for technicians.

pub mod checks;
pub mod console;
pub mod farm_setup;
pub mod painter;
pub mod run;
pub mod stylize;
pub mod test_camera;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::{DevicePreference, EngineDevice, GpuOptions, Precision};

#[derive(Parser)]
#[command(name = "gallery-painter", version, about = "Interactive neural-style art installation (Gatys et al. 2015)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once at start: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
    /// Start the installation (the default when no command is given).
    Run(run::RunArgs),
    /// Paint one photo in the style of one or more artworks (headless).
    Stylize(stylize::StylizeArgs),
    /// Print the cameras this machine has, with their formats, sizes and frame rates.
    ListCameras,
    /// Open the camera as the installation would and report what it delivers.
    CheckCamera(checks::CheckCameraArgs),
    /// What the running installation is doing (from its status file): one screen.
    Status(checks::StatusArgs),
    /// Validate the config and scene files without starting anything.
    CheckConfig(checks::CheckArgs),
    /// The curator console: `console set-password`.
    Console(console::ConsoleArgs),
    /// Paint for the kiosks of a painter farm (NATS JetStream); one process per GPU.
    Painter(painter::PainterArgs),
    /// Make the farm's streams and buckets for its kiosks (the setup role: kiosks and painters may not).
    FarmSetup(farm_setup::FarmSetupArgs),
    /// Run a command with a V4L2 test camera present (no camera needed): `test-camera
    /// [options] -- gallery-painter list-cameras`.
    TestCamera(test_camera::TestCameraArgs),
    /// Regenerate the project's own default artworks into assets/styles.
    MakeArtworks {
        #[arg(long, default_value = "assets/styles")]
        out: PathBuf,
        #[arg(long, default_value_t = 640)]
        width: u32,
        #[arg(long, default_value_t = 480)]
        height: u32,
    },
}

/// The log on stderr, as both binaries write it: `RUST_LOG` if set, else `default_filter`;
/// colour codes only on a terminal (a log file or the journal gets plain text).
pub fn init_tracing(default_filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.to_string().into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .init();
}

/// Options shared by every command that runs the engine.
#[derive(Args, Clone, Debug)]
pub struct EngineArgs {
    /// The VGG weights (safetensors made by scripts/setup.sh).
    #[arg(long, default_value = crate::paths::DEFAULT_WEIGHTS)]
    pub weights: PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// Intra-op threads for libtorch on CPU (0 = all cores but one).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// fp32, or mixed (bf16 convolutions, fp32 image and losses; CUDA only).
    #[arg(long, value_enum, default_value = "fp32")]
    pub precision: PrecisionArg,
    // The GPU levers default to the installation's (engine.gpu's defaults); each takes true or false.
    /// cuDNN benchmark mode (CUDA): try the convolution algorithms once per shape.
    #[arg(long, default_value_t = GpuOptions::default().cudnn_benchmark, action = clap::ArgAction::Set)]
    pub cudnn_benchmark: bool,
    /// TF32 for the Gram matmuls (CUDA).
    #[arg(long, default_value_t = GpuOptions::default().tf32_matmul, action = clap::ArgAction::Set)]
    pub tf32_matmul: bool,
    /// TF32 for the convolutions (CUDA; PyTorch's default is on).
    #[arg(long, default_value_t = GpuOptions::default().tf32_conv, action = clap::ArgAction::Set)]
    pub tf32_conv: bool,
    /// Replay the objective as CUDA graphs.
    #[arg(long, default_value_t = GpuOptions::default().cuda_graphs, action = clap::ArgAction::Set)]
    pub cuda_graphs: bool,
    /// NHWC (channels_last) convolutions.
    #[arg(long, default_value_t = GpuOptions::default().channels_last, action = clap::ArgAction::Set)]
    pub channels_last: bool,
}

impl EngineArgs {
    pub fn gpu(&self) -> GpuOptions {
        GpuOptions {
            cudnn_benchmark: self.cudnn_benchmark,
            tf32_matmul: self.tf32_matmul,
            tf32_conv: self.tf32_conv,
            cuda_graphs: self.cuda_graphs,
            channels_last: self.channels_last,
        }
    }
    /// The device these options ask for (see [`crate::engine::device::select`]).
    pub fn select(&self) -> anyhow::Result<EngineDevice> {
        crate::engine::device::select(self.device.into(), self.precision.into(), self.threads, self.gpu())
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerArg {
    Lbfgs,
    Adam,
}

impl OptimizerArg {
    pub fn name(self) -> &'static str {
        match self {
            OptimizerArg::Adam => "adam",
            OptimizerArg::Lbfgs => "lbfgs",
        }
    }
    /// L-BFGS with 20 curvature pairs, or Adam with learning rate `lr` (pixel units).
    pub fn kind(self, lr: f64) -> crate::engine::optim::OptimizerKind {
        use crate::engine::optim::OptimizerKind;
        match self {
            OptimizerArg::Adam => OptimizerKind::Adam { lr },
            OptimizerArg::Lbfgs => OptimizerKind::Lbfgs { history: 20 },
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DeviceArg {
    Auto,
    Cpu,
    Cuda,
}
impl From<DeviceArg> for DevicePreference {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Auto => DevicePreference::Auto,
            DeviceArg::Cpu => DevicePreference::Cpu,
            DeviceArg::Cuda => DevicePreference::Cuda,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum PrecisionArg {
    Fp32,
    Mixed,
}
impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::Fp32 => Precision::Fp32,
            PrecisionArg::Mixed => Precision::Mixed,
        }
    }
}
