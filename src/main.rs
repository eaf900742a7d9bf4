use clap::Parser;
use gallery_painter::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    gallery_painter::cli::init_tracing("info,wgpu=error,naga=warn,bevy_render=warn");
    let cli = Cli::parse();
    let result = (|| -> anyhow::Result<()> {
        use gallery_painter::cli::{checks, run};
        match cli.command {
            Some(Command::Stylize(args)) => {
                gallery_painter::engine::device::check_libtorch()?;
                gallery_painter::cli::stylize::run(args)
            }
            Some(Command::Run(args)) => {
                gallery_painter::engine::device::check_libtorch()?;
                run::run(args)
            }
            None => {
                gallery_painter::engine::device::check_libtorch()?;
                run::run(run::RunArgs::default())
            }
            Some(Command::ListCameras) => checks::list_cameras(),
            Some(Command::CheckCamera(args)) => checks::check_camera(args),
            Some(Command::Status(args)) => checks::status(args),
            Some(Command::Console(args)) => gallery_painter::cli::console::run(args),
            Some(Command::Painter(args)) => gallery_painter::cli::painter::run(args),
            Some(Command::FarmSetup(args)) => gallery_painter::cli::farm_setup::run(args),
            Some(Command::TestCamera(args)) => gallery_painter::cli::test_camera::run(args),
            Some(Command::CheckConfig(args)) => checks::check_config(args),
            Some(Command::MakeArtworks { out, width, height }) => {
                std::fs::create_dir_all(&out)?;
                for (i, a) in gallery_painter::artworks::ARTWORKS.iter().enumerate() {
                    let path = out.join(a.file);
                    (a.paint)(width, height, 1000 + i as u64).save(&path)?;
                    println!("wrote {} ({})", path.display(), a.title);
                }
                Ok(())
            }
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
