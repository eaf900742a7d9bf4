//! `gallery-bench`: the measurements behind the docs' numbers, in a binary of their own so the
//! kiosk's `gallery-painter` carries only what a technician runs. Never a timed test: each
//! command prints what it measured on this machine (method and tables in docs/engine.md and
//! docs/farm.md). `cargo test` builds it, so it cannot rot unnoticed.

mod compare_faces;
mod engine;
mod faces;
mod farm;
mod journey;
mod live;
// The farm test harness, shared with the tests (which use the parts the benchmark does not).
#[path = "../../../tests/common/local_server.rs"]
#[allow(dead_code)]
mod local_server;
mod mirror;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gallery-bench",
    version,
    about = "Benchmarks of the gallery painter (engine, live pipeline, faces, farm)"
)]
struct Bench {
    #[command(subcommand)]
    command: Measure,
}

// Parsed once at start: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Measure {
    /// Engine vs PyTorch reference, same math, same machine, same run.
    Engine(engine::BenchArgs),
    /// Live pipeline: capture-to-painting latency, snapshot rate, flicker.
    Live(live::BenchLiveArgs),
    /// Face-aware painting vs plain on portraits: content in faces, style outside, time.
    Faces(faces::BenchFacesArgs),
    /// The face detectors side by side on a face set: recall, false faces, cost.
    CompareFaces(compare_faces::CompareFacesArgs),
    /// The painter farm on this machine: K kiosks, M painters, synthetic visitors, on loopback.
    Farm(farm::BenchFarmArgs),
    /// One engine timing run (what `engine` starts once per variant and repeat).
    #[command(hide = true)]
    EngineRun(engine::BenchEngineArgs),
}

/// The product binary beside this one: the farm benchmark starts real `gallery-painter painter`
/// processes, as a museum does.
fn product_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name("gallery-painter");
    anyhow::ensure!(
        path.is_file(),
        "{} not found beside {}\n  fix: build both binaries (cargo build --release --bins; scripts/bench.sh does)",
        path.display(),
        me.display()
    );
    Ok(path)
}

fn main() -> std::process::ExitCode {
    gallery_painter::cli::init_tracing("info,wgpu=error,naga=warn");
    let result = (|| -> anyhow::Result<()> {
        match Bench::parse().command {
            Measure::Engine(args) => {
                gallery_painter::engine::device::check_libtorch()?;
                engine::bench(args)
            }
            Measure::Live(args) => live::bench_live(args),
            Measure::Faces(args) => faces::bench_faces(args),
            Measure::CompareFaces(args) => compare_faces::run(args),
            Measure::Farm(args) => farm::run(args),
            Measure::EngineRun(args) => engine::bench_engine(args),
        }
    })();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
