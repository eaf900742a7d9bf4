//! The gallery app: Bevy plugins, one concern a file, around the live pipeline.

pub mod access;
mod camera_texture;
pub mod caption;
pub mod console;
pub mod display;
mod face_view;
mod hud;
pub mod image_loader;
pub mod journey;
pub mod keepsake;
pub mod keys;
pub mod kiosk;
pub mod language;
pub mod layout_report;
pub mod pacing;
pub mod picker;
pub mod pipeline;
mod preview;
pub mod rotation;
pub mod saved_state;
pub mod service;
pub mod share;
pub mod stage;
pub mod status_file;
pub mod theme;
pub mod typeface;
pub mod voice;

use std::path::{Path, PathBuf};

use anyhow::Context;
use bevy::prelude::*;
use bevy::window::{CursorOptions, MonitorSelection, WindowMode, WindowResolution};

use crate::capture::{CaptureOptions, factory_for, spawn_capture};
use crate::config::InstallationConfig;
use crate::painting::WorkerConfig;
use crate::scene::Scene;

pub use journey::{Journey, JourneyRequest, JourneySettings};
pub use kiosk::KioskSettings;
pub use picker::{Engagement, Picker, Thumbnail};
pub use pipeline::{
    LatestPainting, PaintingGate, PaintingUpdated, Pipeline, PipelineStatus, PresenceSeen, SendCommand,
};
pub use rotation::{
    ArtworkChanged, ArtworkNotice, ArtworkRefused, Opening, Playlist, SceneProblem, SceneReloaded, SceneWatch,
    StyleRequest,
};

/// The order of work in each frame: take in what the threads sent, react to input, run
/// the playlist, send commands out, then update what is on screen.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppSystems {
    Receive,
    Input,
    Logic,
    Send,
    Present,
}

/// The installation's logic without any rendering: what headless tests run. The visitor
/// journey is part of it when [`JourneySettings`] is present.
pub fn logic_plugins(app: &mut App) {
    app.configure_sets(
        Update,
        (AppSystems::Receive, AppSystems::Input, AppSystems::Logic, AppSystems::Send, AppSystems::Present).chain(),
    );
    pipeline::plugin(app);
    rotation::plugin(app);
    kiosk::plugin(app);
    service::plugin(app);
    console::plugin(app);
    if app.world().contains_resource::<JourneySettings>() {
        journey::logic_plugin(app);
    }
}

/// Everything that draws.
pub fn view_plugins(app: &mut App) {
    typeface::plugin(app);
    theme::plugin(app);
    language::plugin(app);
    access::plugin(app);
    stage::plugin(app);
    if app.world().contains_resource::<JourneySettings>() {
        journey::view_plugin(app);
        share::plugin(app);
        voice::plugin(app);
    }
    display::plugin(app);
    caption::plugin(app);
    picker::plugin(app);
    preview::plugin(app);
    hud::plugin(app);
    face_view::plugin(app);
    keepsake::plugin(app);
    status_file::plugin(app);
    pacing::plugin(app);
    layout_report::plugin(app);
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Force a window (development) whatever the config says.
    pub windowed: bool,
    pub status_file: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
}

/// Kiosk settings from config (keys were validated when the config was loaded).
pub fn kiosk_settings(cfg: &InstallationConfig) -> KioskSettings {
    KioskSettings {
        exit_chord: cfg.kiosk.admin_exit_chord.iter().filter_map(|k| keys::parse_key(k)).collect(),
        hud_key: keys::parse_key(&cfg.kiosk.admin_hud_key).unwrap_or(KeyCode::F12),
        ignore_close_requests: cfg.kiosk.ignore_close_requests,
    }
}

type ConsoleLink = (std::sync::Arc<crate::console::Board>, crossbeam_channel::Receiver<crate::console::StaffCommand>);

/// The staff's HTTP servers: `/health` and `/metrics` on `service.health_address`, and the
/// console (with `/health` and `/metrics` as routes of it) on `console.listen`; one server when
/// both are the same address.
fn start_staff_servers(
    cfg: &InstallationConfig,
    root: &Path,
    health: &service::HealthBoard,
    device: crate::engine::EngineDevice,
) -> anyhow::Result<(Vec<crate::service::http::HealthServer>, Option<ConsoleLink>)> {
    use crate::service::http;
    let mut servers = Vec::new();
    let health_routes = || http::health_routes(health.0.clone(), cfg.service.allow_remote_health);
    let proxies = crate::service::proxies::TrustedProxies::new(&cfg.service.trusted_proxies);
    let mut console_link = None;
    if cfg.console.enabled {
        let addr: std::net::SocketAddr = cfg.console.listen.parse().context("console.listen")?;
        let (board, commands) = crate::console::Board::new(health.0.clone());
        *board.stats() = crate::console::stats::Stats::load(&cfg.console.state_dir(root));
        let state_dir = cfg.console.state_dir(root);
        let scenes = crate::console::scenes::SceneDesk::new(
            crate::paths::resolve(root, &cfg.scene),
            root.to_path_buf(),
            cfg.engine.style.clone(),
            &state_dir,
        );
        let shelf = crate::console::artworks::Shelf::new(
            crate::paths::resolve(root, &cfg.console.artworks_dir),
            root.to_path_buf(),
            Some((crate::paths::resolve(root, &cfg.engine.weights), device, cfg.engine.style.clone())),
        );
        let console =
            crate::console::server::Console::new(&cfg.console, state_dir, board.clone(), Some(scenes), Some(shelf));
        let router = health_routes().merge(crate::console::server::router(console));
        let server = http::serve(addr, router, proxies.clone()).with_context(|| {
            format!("cannot serve the console on {addr}\n  fix: another program uses the port; choose another console.listen")
        })?;
        tracing::info!("console on http://{}/ (with /health and /metrics)", server.address);
        servers.push(server);
        console_link = Some((board, commands));
    }
    if let Some(address) = &cfg.service.health_address
        && !(cfg.console.enabled && *address == cfg.console.listen)
    {
        let addr = http::check_address(address, cfg.service.allow_remote_health).map_err(anyhow::Error::msg)?;
        let server = http::serve(addr, health_routes(), proxies.clone()).with_context(|| {
            format!("cannot serve /health on {addr}\n  fix: another program uses the port; choose another service.health_address")
        })?;
        tracing::info!("health and metrics on http://{}/health and /metrics", server.address);
        servers.push(server);
    }
    Ok((servers, console_link))
}

/// Starts capture, worker and the display; returns when the admin quits.
pub fn run(cfg: InstallationConfig, root: &Path, options: RunOptions) -> anyhow::Result<()> {
    let scene_path = crate::paths::resolve(root, &cfg.scene);
    // An artwork whose style image is missing or broken is left out, and said; the rest shows.
    let (scene, refused) = Scene::load_playable(&scene_path, root, &cfg.engine.style)?;
    for (i, e) in &refused {
        tracing::error!("artwork {} of the scene is not shown:\n{e}", i + 1);
    }
    let texts = std::sync::Arc::new(crate::i18n::Catalog::load(&cfg.language, root)?);
    let weights = crate::paths::resolve(root, &cfg.engine.weights);
    // Fail before opening a window if the network cannot be loaded at all.
    std::fs::metadata(&weights)
        .map_err(|e| crate::engine::EngineError::WeightsMissing { path: weights.clone(), reason: e.to_string() })?;
    let device =
        crate::engine::device::select(cfg.engine.device, cfg.engine.precision, cfg.engine.threads, cfg.engine.gpu)?;
    tracing::info!("engine on {}", device.describe());
    let faults = match std::env::var(crate::service::faults::ENV) {
        Ok(text) => crate::service::faults::parse(&text).map_err(anyhow::Error::msg)?,
        Err(_) => Vec::new(),
    };
    let health = service::HealthBoard::default();
    // Bound before the window opens: a taken port is a configuration error to see at once.
    let (staff_servers, console_board) = start_staff_servers(&cfg, root, &health, device)?;

    // The visitor journey belongs to the Paint policy: Live follows the camera continuously.
    let journey = cfg.journey.enabled && cfg.engine.policy == crate::config::Policy::Paint;
    // A kiosk that needs its camera never paints the demo instead: it waits for the camera.
    let camera_required = cfg.camera_required && matches!(cfg.source, crate::config::SourceConfig::Camera(_));
    let capture = spawn_capture(
        factory_for(&cfg.source, root),
        (!camera_required).then(|| factory_for(&cfg.fallback, root)),
        CaptureOptions {
            presence: (journey && cfg.presence.enabled).then(|| cfg.presence.clone()),
            faces: crate::capture::faces::for_capture(root, &cfg.faces),
            ..CaptureOptions::default()
        },
    );
    // Local thread, or the painter farm with the local thread as its fallback.
    let worker = crate::workers::start(
        WorkerConfig {
            intake: if journey { crate::painting::Intake::OnCommand } else { crate::painting::Intake::Stream },
            ..WorkerConfig::from_config(root, &cfg.engine, device)
        },
        capture.frames.clone(),
    );

    // The guest listener, bound before the window opens like /health: a taken port is seen at once.
    let share = match (cfg.share.enabled, journey) {
        (true, true) => {
            let store = std::sync::Arc::new(
                crate::share::ShareStore::new(cfg.share.clone(), root, texts.clone())
                    .context("cannot prepare the folder for take-home paintings (share.folder)")?,
            );
            let proxies = crate::service::proxies::TrustedProxies::new(&cfg.service.trusted_proxies);
            let server = crate::share::server::serve(store.clone(), proxies).with_context(|| {
                format!(
                    "cannot serve take-home pages on {}\n  fix: another program uses the port; choose another share.listen",
                    cfg.share.listen
                )
            })?;
            Some((store, server))
        }
        (true, false) => {
            tracing::warn!("share: take-home links need the visitor journey (engine.policy: Paint); not offered");
            None
        }
        _ => None,
    };

    let fullscreen = cfg.display.fullscreen && !options.windowed;
    let window = Window {
        title: "Gallery Painter".into(),
        mode: if fullscreen {
            WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
        } else {
            WindowMode::Windowed
        },
        resolution: WindowResolution::new(cfg.display.width, cfg.display.height),
        ..default()
    };
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .build()
            .disable::<bevy::log::LogPlugin>() // tracing is set up by main
            .set(WindowPlugin {
                primary_window: Some(window),
                primary_cursor_options: Some(CursorOptions {
                    visible: !(fullscreen && cfg.kiosk.hide_cursor),
                    ..default()
                }),
                close_when_requested: false,
                ..default()
            }),
    );
    let mut playlist = Playlist::new(
        scene,
        scene_path.clone(),
        root.to_path_buf(),
        cfg.engine.style.clone(),
        cfg.kiosk.idle_timeout_s,
    )
    .with_unusable(
        refused.into_iter().map(|(i, e)| (i, format!("{} ({}:{}:{})", e.message, e.path.display(), e.line, e.col))),
    );
    if let Some(path) = &options.state_file {
        app.insert_resource(saved_state::restore(path.clone(), &mut playlist));
    }
    app.insert_resource(Pipeline::new(worker, capture))
        .insert_resource(playlist)
        .insert_resource(SceneWatch::new(&scene_path, 1.0))
        .insert_resource(kiosk_settings(&cfg))
        .insert_resource(display::DisplaySettings { crossfade_ms: cfg.display.crossfade_ms })
        .insert_resource(caption::CaptionSettings { visible: cfg.display.caption })
        .insert_resource(Engagement {
            last_input: 0.0,
            attract_after_s: cfg.display.attract_after_s,
            // The journey's attract screen has its own invitation.
            show_hint: !journey,
        })
        .insert_resource(ClearColor(Color::BLACK))
        .insert_resource(language::Texts(texts.clone()))
        .insert_resource(access::AccessSettings { reach: cfg.kiosk.reach, high_contrast: cfg.kiosk.high_contrast })
        .insert_resource(language::Language {
            current: cfg.language.default.clone(),
            default: cfg.language.default.clone(),
        });
    if journey {
        app.insert_resource(JourneySettings::new(cfg.journey.clone(), cfg.presence.enabled, cfg.keepsake.enabled));
    }
    if let Some((store, _)) = &share {
        app.insert_resource(share::ShareDesk(store.clone()));
    }
    // The voice thread, when a visit may be spoken (every visit, or after the visitor's button).
    app.insert_resource(voice::VoiceSettings(cfg.kiosk.voice));
    if journey && (cfg.kiosk.voice.enabled || cfg.kiosk.voice.button) {
        let synthesiser = crate::voice::Synthesiser::espeak(crate::voice::default_cache(root));
        app.insert_resource(voice::VoiceDesk(crate::voice::Speaker::start(synthesiser)));
        if let Some(why) = crate::voice::no_playback_device(std::path::Path::new("/dev/snd")) {
            tracing::warn!("voice: silent: {why}");
            app.insert_resource(voice::AudioOutputMissing(why));
        }
    }
    if cfg.keepsake.enabled {
        app.insert_resource(keepsake::KeepsakeSettings {
            folder: crate::paths::resolve(root, &cfg.keepsake.folder),
            command: cfg.keepsake.command.clone(),
            command_timeout: std::time::Duration::from_secs_f64(cfg.keepsake.command_timeout_s),
        });
    }
    if let Some(path) = options.status_file {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        app.insert_resource(status_file::StatusFile(path));
    }
    let watchdog = crate::service::watchdog::Watchdog::from_env();
    if watchdog.enabled() {
        app.insert_resource(service::WatchdogState(watchdog));
    }
    app.insert_resource(health).insert_resource(service::FaultSchedule(faults));
    if let Some((board, commands)) = console_board {
        app.insert_resource(console::ConsoleDesk { board, commands, state_dir: cfg.console.state_dir(root) });
    }
    let _staff_servers = staff_servers;
    logic_plugins(&mut app);
    view_plugins(&mut app);
    saved_state::plugin(&mut app);
    if cfg.display.camera_preview {
        app.insert_resource(preview::PreviewEnabled);
    }
    // systemctl stop: quit as the admin chord does, so that what is below runs.
    app.insert_resource(kiosk::StopSignal::listen().context("cannot listen for SIGTERM")?);
    let exit = app.run();
    // Nothing of a visitor stays behind the kiosk.
    if let Some((store, _)) = &share {
        store.close();
    }
    match exit {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow::anyhow!("the app exited with code {code}")).context("gallery app"),
    }
}
