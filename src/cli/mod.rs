//! The command line: `run` starts the installation; the rest are tools for technicians.

pub mod bench;
mod bench_journey;
mod bench_mirror;
pub mod stylize;
pub mod test_camera;
pub mod tools;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::{DevicePreference, Precision};

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
    Run(tools::RunArgs),
    /// Paint one photo in the style of one or more artworks (headless).
    Stylize(stylize::StylizeArgs),
    /// Print the cameras this machine has, with their formats, sizes and frame rates.
    ListCameras,
    /// Open the camera as the installation would and report what it delivers.
    CheckCamera(tools::CheckCameraArgs),
    /// What the running installation is doing (from its status file): one screen.
    Status(tools::StatusArgs),
    /// Validate the config and scene files without starting anything.
    CheckConfig(tools::CheckArgs),
    /// Engine vs PyTorch reference, same math, same machine, same run.
    Bench(bench::BenchArgs),
    /// Live pipeline: capture-to-painting latency, snapshot rate, flicker.
    BenchLive(bench::BenchLiveArgs),
    /// One engine timing run (used by `bench`).
    #[command(hide = true)]
    BenchEngine(bench::BenchEngineArgs),
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
    /// fp32, or mixed (CUDA autocast) for speed on a GPU.
    #[arg(long, value_enum, default_value = "fp32")]
    pub precision: PrecisionArg,
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
