//! What the installation runs beside its window, started by one owner: the capture thread,
//! the worker (local, or the farm with a local fallback), the voice thread, the staff's HTTP
//! servers (/health, /metrics, the console) and the guest listener for take-home pages. All
//! are started, and their ports bound, before the window opens: a taken port or a missing
//! network is a configuration error to see at once, not a black screen.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bevy::prelude::*;

use super::{console, pipeline::Pipeline, service, share, voice};
use crate::capture::{CaptureOptions, factory_for, spawn_capture};
use crate::config::{ConfigError, InstallationConfig};
use crate::scene::Scene;

/// What the kiosk shows, loaded and checked before anything starts.
pub struct Show {
    pub scene: Scene,
    pub scene_path: PathBuf,
    /// Artworks left out (their style image is missing or broken), with why.
    pub refused: Vec<(usize, ConfigError)>,
    pub texts: Arc<crate::i18n::Catalog>,
    pub device: crate::engine::EngineDevice,
    /// The visitor journey belongs to the Paint policy: Live follows the camera continuously.
    pub journey: bool,
}

impl Show {
    pub fn load(cfg: &InstallationConfig, root: &Path) -> anyhow::Result<Show> {
        let scene_path = crate::paths::resolve(root, &cfg.scene);
        // An artwork whose style image is missing or broken is left out, and said; the rest shows.
        let (scene, refused) = Scene::load_playable(&scene_path, root, &cfg.engine.style)?;
        for (i, e) in &refused {
            tracing::error!("artwork {} of the scene is not shown:\n{e}", i + 1);
        }
        let texts = Arc::new(crate::i18n::Catalog::load(&cfg.language, root)?);
        let weights = crate::paths::resolve(root, &cfg.engine.weights);
        // Fail before opening a window if the network cannot be loaded at all.
        std::fs::metadata(&weights)
            .map_err(|e| crate::engine::EngineError::WeightsMissing { path: weights.clone(), reason: e.to_string() })?;
        let device =
            crate::engine::device::select(cfg.engine.device, cfg.engine.precision, cfg.engine.threads, cfg.engine.gpu)?;
        tracing::info!("engine on {}", device.describe());
        let journey = cfg.journey.enabled && cfg.engine.policy == crate::config::Policy::Paint;
        Ok(Show { scene, scene_path, refused, texts, device, journey })
    }
}

/// The running services. [`Services::hand_to`] gives the app its handles and keeps the rest.
pub struct Services {
    pipeline: Pipeline,
    health: service::HealthBoard,
    faults: Vec<crate::service::faults::ScheduledFault>,
    console: Option<ConsoleLink>,
    state_dir: PathBuf,
    share: Option<(Arc<crate::share::ShareStore>, crate::share::server::GuestServer)>,
    voice: Option<(crate::voice::Speaker, Option<String>)>,
    staff_servers: Vec<crate::service::http::HealthServer>,
}

/// What outlives the app's handles until the app has quit: the servers, and the take-home
/// store, whose files of visitors are removed when this is dropped.
pub struct Running {
    _staff_servers: Vec<crate::service::http::HealthServer>,
    share: Option<(Arc<crate::share::ShareStore>, crate::share::server::GuestServer)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Nothing of a visitor stays behind the kiosk.
        if let Some((store, _)) = &self.share {
            store.close();
        }
    }
}

impl Services {
    pub fn start(cfg: &InstallationConfig, root: &Path, show: &Show) -> anyhow::Result<Services> {
        let faults = match std::env::var(crate::service::faults::ENV) {
            Ok(text) => crate::service::faults::parse(&text).map_err(anyhow::Error::msg)?,
            Err(_) => Vec::new(),
        };
        let health = service::HealthBoard::default();
        let (staff_servers, console) = start_staff_servers(cfg, root, &health, show.device)?;
        // A kiosk that needs its camera never paints the demo instead: it waits for the camera.
        let camera_required = cfg.camera_required && matches!(cfg.source, crate::config::SourceConfig::Camera(_));
        let capture = spawn_capture(
            factory_for(&cfg.source, root),
            (!camera_required).then(|| factory_for(&cfg.fallback, root)),
            CaptureOptions {
                presence: (show.journey && cfg.presence.enabled).then(|| cfg.presence.clone()),
                faces: crate::capture::faces::for_capture(root, &cfg.faces),
                ..CaptureOptions::default()
            },
        );
        let worker = crate::workers::start(
            crate::painting::WorkerConfig {
                intake: if show.journey { crate::painting::Intake::OnCommand } else { crate::painting::Intake::Stream },
                ..crate::painting::WorkerConfig::from_config(root, &cfg.engine, show.device)
            },
            capture.frames.clone(),
        );
        let share = match (cfg.share.enabled, show.journey) {
            (true, true) => {
                let store = Arc::new(
                    crate::share::ShareStore::new(cfg.share.clone(), root, show.texts.clone())
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
        // The voice thread, when a visit may be spoken (every visit, or after the visitor's button).
        let voice = (show.journey && (cfg.kiosk.voice.enabled || cfg.kiosk.voice.button)).then(|| {
            let synthesiser = crate::voice::Synthesiser::espeak(crate::voice::default_cache(root));
            let silent = crate::voice::no_playback_device(std::path::Path::new("/dev/snd"));
            if let Some(why) = &silent {
                tracing::warn!("voice: silent: {why}");
            }
            (crate::voice::Speaker::start(synthesiser), silent)
        });
        Ok(Services {
            pipeline: Pipeline::new(worker, capture),
            health,
            faults,
            console,
            state_dir: cfg.console.state_dir(root),
            share,
            voice,
            staff_servers,
        })
    }

    /// The app's handles to the services, as resources; the returned [`Running`] keeps the
    /// servers up until it is dropped.
    pub fn hand_to(self, app: &mut App) -> Running {
        app.insert_resource(self.pipeline)
            .insert_resource(self.health)
            .insert_resource(service::FaultSchedule(self.faults));
        if let Some((board, commands)) = self.console {
            app.insert_resource(console::ConsoleDesk { board, commands, state_dir: self.state_dir });
        }
        if let Some((store, _)) = &self.share {
            app.insert_resource(share::ShareDesk(store.clone()));
        }
        if let Some((speaker, silent)) = self.voice {
            app.insert_resource(voice::VoiceDesk(speaker));
            if let Some(why) = silent {
                app.insert_resource(voice::AudioOutputMissing(why));
            }
        }
        Running { _staff_servers: self.staff_servers, share: self.share }
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
