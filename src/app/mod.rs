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
mod services;
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

use crate::config::InstallationConfig;

pub use journey::{Journey, JourneyRequest, JourneySettings, JourneySystems, Visit};
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
/// journey's logic is part of it, run in `Visit::Journey` ([`journey::begin`]).
pub fn logic_plugins(app: &mut App) {
    app.configure_sets(
        Update,
        (AppSystems::Receive, AppSystems::Input, AppSystems::Logic, AppSystems::Send, AppSystems::Present).chain(),
    );
    app.init_state::<Visit>()
        .configure_sets(Update, JourneySystems.run_if(in_state(Visit::Journey)))
        .configure_sets(Startup, JourneySystems.run_if(in_state(Visit::Journey)));
    pipeline::plugin(app);
    rotation::plugin(app);
    kiosk::plugin(app);
    service::plugin(app);
    console::plugin(app);
    journey::logic_plugin(app);
}

/// Everything that draws.
pub fn view_plugins(app: &mut App) {
    typeface::plugin(app);
    theme::plugin(app);
    language::plugin(app);
    access::plugin(app);
    stage::plugin(app);
    journey::view_plugin(app);
    share::plugin(app);
    voice::plugin(app);
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

/// Starts the services and the display; returns when the admin quits.
pub fn run(cfg: InstallationConfig, root: &Path, options: RunOptions) -> anyhow::Result<()> {
    let show = services::Show::load(&cfg, root)?;
    // The threads and servers, started (and their ports bound) before the window opens.
    let services = services::Services::start(&cfg, root, &show)?;
    let mut app = App::new();
    app.add_plugins(window_plugins(&cfg, &options));
    let journey = show.journey;
    configure(&mut app, &cfg, root, &options, show)?;
    // The app holds the handles; `running` the servers, stopped when it is dropped.
    let running = services.hand_to(&mut app);
    logic_plugins(&mut app);
    view_plugins(&mut app);
    saved_state::plugin(&mut app);
    if journey {
        journey::begin(&mut app, JourneySettings::new(cfg.journey.clone(), cfg.presence.enabled, cfg.keepsake.enabled));
    }
    // systemctl stop: quit as the admin chord does, so that what is below runs.
    app.insert_resource(kiosk::StopSignal::listen().context("cannot listen for SIGTERM")?);
    let exit = app.run();
    // Nothing of a visitor stays behind the kiosk.
    drop(running);
    match exit {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow::anyhow!("the app exited with code {code}")).context("gallery app"),
    }
}

/// Bevy's plugins with the gallery's window: fullscreen unless asked otherwise, the cursor
/// hidden on a kiosk, closing left to the kiosk plugin.
fn window_plugins(cfg: &InstallationConfig, options: &RunOptions) -> bevy::app::PluginGroupBuilder {
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
        })
}

/// The resources the config and the command line decide: what each plugin reads to know
/// what to do (the journey's settings decide whether there is a journey, and so on).
fn configure(
    app: &mut App,
    cfg: &InstallationConfig,
    root: &Path,
    options: &RunOptions,
    show: services::Show,
) -> anyhow::Result<()> {
    let journey = show.journey;
    let mut playlist = Playlist::new(
        show.scene,
        show.scene_path.clone(),
        root.to_path_buf(),
        cfg.engine.style.clone(),
        cfg.kiosk.idle_timeout_s,
    )
    .with_unusable(
        show.refused
            .into_iter()
            .map(|(i, e)| (i, format!("{} ({}:{}:{})", e.message, e.path.display(), e.line, e.col))),
    );
    if let Some(path) = &options.state_file {
        app.insert_resource(saved_state::restore(path.clone(), &mut playlist));
    }
    app.insert_resource(playlist)
        .insert_resource(SceneWatch::new(&show.scene_path, 1.0))
        .insert_resource(kiosk_settings(cfg))
        .insert_resource(display::DisplaySettings { crossfade_ms: cfg.display.crossfade_ms })
        .insert_resource(caption::CaptionSettings { visible: cfg.display.caption })
        .insert_resource(Engagement {
            last_input: 0.0,
            attract_after_s: cfg.display.attract_after_s,
            // The journey's attract screen has its own invitation.
            show_hint: !journey,
        })
        .insert_resource(ClearColor(Color::BLACK))
        .insert_resource(language::Texts(show.texts.clone()))
        .insert_resource(access::AccessSettings { reach: cfg.kiosk.reach, high_contrast: cfg.kiosk.high_contrast })
        .insert_resource(language::Language {
            current: cfg.language.default.clone(),
            default: cfg.language.default.clone(),
        })
        .insert_resource(voice::VoiceSettings(cfg.kiosk.voice));
    if cfg.keepsake.enabled {
        app.insert_resource(keepsake::KeepsakeSettings {
            folder: crate::paths::resolve(root, &cfg.keepsake.folder),
            command: cfg.keepsake.command.clone(),
            command_timeout: std::time::Duration::from_secs_f64(cfg.keepsake.command_timeout_s),
        });
    }
    if let Some(path) = options.status_file.clone() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        app.insert_resource(status_file::StatusFile(path));
    }
    let watchdog = crate::service::watchdog::Watchdog::from_env();
    if watchdog.enabled() {
        app.insert_resource(service::WatchdogState(watchdog));
    }
    if cfg.display.camera_preview {
        app.insert_resource(preview::PreviewEnabled);
    }
    Ok(())
}
