use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ConfigError, load_ron};
use crate::capture::faces::FaceDetectionConfig;
use crate::capture::presence::PresenceConfig;
use crate::capture::synthetic::SyntheticVisitor;
use crate::engine::{DevicePreference, GpuOptions, LiveSettings, Precision, StyleParams};

/// The longest time any setting may name, seconds (a day): beyond it a number is a typo,
/// and `inf` would panic where it becomes a `Duration`.
pub const MAX_SECONDS: f64 = 86_400.0;
/// The longest frame edge a source may produce, px.
pub const MAX_FRAME_EDGE: u32 = 8192;
/// The public-domain portrait the demo's visitor wears (provenance: assets/faces/PROVENANCE.md).
pub const DEMO_FACE: &str = "assets/faces/hopper.png";
/// Most finished paintings the attract loop keeps in memory.
pub const MAX_RECENT_PAINTINGS: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstallationConfig {
    /// The scene (playlist of artworks) to show.
    pub scene: PathBuf,
    pub display: DisplayConfig,
    /// Where frames come from.
    pub source: SourceConfig,
    /// Used when the source above is a camera that cannot be opened (unless `camera_required`).
    pub fallback: SourceConfig,
    /// An installed kiosk: without its camera it is unhealthy (`/health` 503, `camera_ok`
    /// 0), shows the artworks without painting anybody, and keeps looking for the camera;
    /// never the demo source. The service sets it (`run --camera-required`).
    pub camera_required: bool,
    pub engine: EngineConfig,
    /// The visitor's moment: noticed, counted down, captured, painted, revealed.
    pub journey: JourneyConfig,
    /// Who is in front of the camera (faces, background model and frame differencing).
    pub presence: PresenceConfig,
    /// The face detector (SeetaFace): presence, and face-aware painting.
    pub faces: FaceDetectionConfig,
    pub kiosk: KioskConfig,
    pub keepsake: KeepsakeConfig,
    /// The languages a visitor can choose; every visitor text is in `assets/i18n/<lang>/kiosk.ftl`.
    pub language: crate::i18n::LanguageConfig,
    /// Take it home: a QR code at the reveal opens the painting on the visitor's phone.
    pub share: crate::share::ShareConfig,
    /// Running unattended: the health endpoint.
    pub service: ServiceConfig,
    /// The curator console: the installation run from a browser (off by default).
    pub console: crate::console::ConsoleConfig,
}

impl Default for InstallationConfig {
    fn default() -> Self {
        InstallationConfig {
            scene: "scenes/default.ron".into(),
            display: DisplayConfig::default(),
            source: SourceConfig::Camera(CameraConfig::default()),
            fallback: SourceConfig::demo(),
            camera_required: false,
            engine: EngineConfig::default(),
            journey: JourneyConfig::default(),
            presence: PresenceConfig::default(),
            faces: FaceDetectionConfig::default(),
            kiosk: KioskConfig::default(),
            keepsake: KeepsakeConfig::default(),
            language: crate::i18n::LanguageConfig::default(),
            share: crate::share::ShareConfig::default(),
            console: crate::console::ConsoleConfig::default(),
            service: ServiceConfig::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisplayConfig {
    /// Borderless fullscreen (exhibition) or a window (development).
    pub fullscreen: bool,
    /// Window size when not fullscreen.
    pub width: u32,
    pub height: u32,
    /// Crossfade between successive snapshots of the painting, milliseconds.
    pub crossfade_ms: u32,
    /// Small live camera view in a corner.
    pub camera_preview: bool,
    /// Title, artist and year of the current artwork.
    pub caption: bool,
    /// Seconds without a touch before the picker hides and the hint shows.
    pub attract_after_s: f64,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig {
            fullscreen: true,
            width: 1280,
            height: 720,
            crossfade_ms: 400,
            camera_preview: true,
            caption: true,
            attract_after_s: 30.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// Camera index as `list-cameras` prints it; ignored if `name` is set.
    pub index: u32,
    /// Part of the camera's name (case-insensitive), e.g. "Logitech".
    pub name: Option<String>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Selfie view: flip left-right so visitors see themselves as in a mirror.
    pub mirror: bool,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig { index: 0, name: None, width: 640, height: 480, fps: 30, mirror: true }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SourceConfig {
    Camera(CameraConfig),
    /// One image, repeated.
    Still {
        path: PathBuf,
    },
    /// Every PNG/JPEG in a folder, in name order, one every `interval_s`.
    Slideshow {
        folder: PathBuf,
        interval_s: f64,
    },
    /// A deterministic moving scene (no camera needed): demos and tests.
    Synthetic {
        seed: u64,
        fps: f64,
        width: u32,
        height: u32,
        /// The figure: `Always` in view, or `Scripted(..)`, a visitor who comes and goes.
        #[serde(default)]
        visitor: SyntheticVisitor,
        /// A portrait the figure wears as its face, so the face detector sees a visitor.
        #[serde(default)]
        face: Option<PathBuf>,
    },
}

impl SourceConfig {
    /// The bundled demo: the synthetic scene with a scripted visitor on a loop.
    pub fn demo() -> SourceConfig {
        SourceConfig::Synthetic {
            seed: 7,
            fps: 15.0,
            width: 640,
            height: 480,
            visitor: SyntheticVisitor::Scripted { away_s: 8.0, still_s: 8.0, stay_s: 90.0 },
            face: Some(PathBuf::from(DEMO_FACE)),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureTrigger {
    /// The countdown starts by itself when the visitor holds still (a touch starts it too).
    #[default]
    Auto,
    /// Only a touch on "Touch to be painted" starts the countdown.
    Touch,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JourneyConfig {
    /// Paint policy: each visitor is noticed, counted down, captured and shown their
    /// painting. Off: the installation paints whatever the camera sees, one after another.
    pub enabled: bool,
    pub capture: CaptureTrigger,
    /// Length of the 3-2-1 countdown, seconds.
    pub countdown_s: f64,
    /// The visitor counts as gone after this many seconds without presence.
    pub leave_grace_s: f64,
    /// Photo and painting side by side when the painting is finished, seconds (0 = off).
    pub side_by_side_s: f64,
    /// The finished painting holds at most this long, then the installation invites the next visitor.
    pub reveal_s: f64,
    /// Gives up on a painting that does not finish (engine trouble) after this long.
    pub painting_timeout_s: f64,
    /// Finished paintings the attract loop shows after their visitor left, kept in memory
    /// only (never on disk). 0 = none: a visitor's portrait leaves with them. Use more only
    /// with a sign that tells visitors.
    pub show_recent_paintings: usize,
    /// Seconds each picture stays in the attract loop.
    pub attract_cycle_s: f64,
}

impl Default for JourneyConfig {
    fn default() -> Self {
        JourneyConfig {
            enabled: true,
            capture: CaptureTrigger::Auto,
            countdown_s: 3.0,
            leave_grace_s: 4.0,
            side_by_side_s: 5.0,
            reveal_s: 45.0,
            painting_timeout_s: 300.0,
            show_recent_paintings: 0,
            attract_cycle_s: 8.0,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    /// Freeze a frame, paint it to the end of its schedule, then take the next.
    #[default]
    Paint,
    /// Refine continuously; new frames warm-start from the current painting.
    Live,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// VGG weights (made by scripts/setup.sh).
    pub weights: PathBuf,
    pub device: DevicePreference,
    pub precision: Precision,
    /// libtorch CPU threads (0 = all cores but one, leaving one for the display).
    pub threads: usize,
    /// GPU levers (cuDNN benchmark, TF32, CUDA graphs, channels_last); ignored on CPU.
    pub gpu: GpuOptions,
    pub policy: Policy,
    /// Publish the painting every this many iterations.
    pub snapshot_every: u32,
    /// ... and at most every this many seconds (the first and the finished painting always
    /// go): a GPU paints 100+ iterations a second, more than the eye or a crossfade needs,
    /// and each snapshot costs a copy from the device (on a painter also a JPEG encoding).
    pub snapshot_interval_s: f64,
    /// Paint policy: how long a finished painting stays before the next capture, seconds.
    pub hold_finished_s: f64,
    /// Live policy: how the painting follows the camera from frame to frame.
    pub live: LiveSettings,
    /// Default method parameters; scene entries may override some.
    pub style: StyleParams,
    /// Where the painting runs on a GPU (this kiosk's own engine, or a farm painter with this
    /// config): the size and schedule to paint at instead of `style`'s (and a scene entry's).
    /// `None`: `style` everywhere.
    pub on_gpu: Option<GpuSchedule>,
    /// Paint on shared painters over NATS JetStream (see README "Several kiosks, shared
    /// painters"); this kiosk's own engine paints whenever the farm cannot.
    pub remote: Option<RemoteConfig>,
}

/// The painting's size and schedule on a GPU, chosen from measurements on an H200 (README,
/// "Performance"): a visitor's painting at 1536 px (3 levels x 100 iterations) was finished
/// 5.6 s after the capture, and the Live mirror at 512 px painted 13 camera frames a second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpuSchedule {
    /// Longer edge of a visitor's painting (Paint), px.
    pub size: u32,
    pub levels: u32,
    /// Per level.
    pub iterations: u32,
    /// Longer edge of the Live mirror, px.
    pub live_size: u32,
}

impl Default for GpuSchedule {
    fn default() -> Self {
        GpuSchedule { size: 1536, levels: 3, iterations: 100, live_size: 512 }
    }
}

impl GpuSchedule {
    /// `params` as painted on a GPU under `policy`.
    pub fn apply(&self, params: &StyleParams, policy: Policy) -> StyleParams {
        match policy {
            Policy::Paint => {
                StyleParams { size: self.size, levels: self.levels, iterations: self.iterations, ..params.clone() }
            }
            Policy::Live => StyleParams { size: self.live_size, ..params.clone() },
        }
    }
}

/// This kiosk's link to the painter farm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    /// `nats://host:4222`, or `tls://host:4222` with `ca`.
    pub url: String,
    /// This kiosk's name on the farm: one word (letters, digits, `-`, `_`), unique per kiosk.
    pub kiosk: String,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    /// The server unreachable this long (or no painter alive while a painting waits): paint
    /// locally, and go back to the farm by itself when it answers again.
    pub fallback_after_s: f64,
    /// Live mode: camera frames sent to the painter per second at most (it paints the
    /// newest; a frame waits until the painter has caught up with the one before).
    pub live_frames_per_second: f64,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        RemoteConfig {
            url: "nats://127.0.0.1:4222".into(),
            kiosk: "kiosk-1".into(),
            user: None,
            password_file: None,
            ca: None,
            fallback_after_s: 3.0,
            live_frames_per_second: 4.0,
        }
    }
}

impl RemoteConfig {
    pub fn connection(&self) -> crate::farm::FarmConnection {
        crate::farm::FarmConnection {
            url: self.url.clone(),
            user: self.user.clone(),
            password_file: self.password_file.clone(),
            ca: self.ca.clone(),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            weights: crate::paths::DEFAULT_WEIGHTS.into(),
            device: DevicePreference::Auto,
            precision: Precision::Fp32,
            threads: 0,
            gpu: GpuOptions::default(),
            policy: Policy::Paint,
            snapshot_every: 2,
            snapshot_interval_s: 0.1,
            hold_finished_s: 8.0,
            live: LiveSettings::default(),
            style: StyleParams { size: 256, iterations: 40, ..StyleParams::default() },
            on_gpu: Some(GpuSchedule::default()),
            remote: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Hide the mouse cursor (touchscreens).
    pub hide_cursor: bool,
    /// Ignore window close requests; exit only by the admin chord.
    pub ignore_close_requests: bool,
    /// Keys held together to quit (Bevy KeyCode names).
    pub admin_exit_chord: Vec<String>,
    /// Key that toggles the status overlay.
    pub admin_hud_key: String,
    /// After a visitor picks a style, resume the rotation after this many idle seconds.
    pub idle_timeout_s: f64,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            hide_cursor: true,
            ignore_close_requests: true,
            admin_exit_chord: vec!["ControlLeft".into(), "AltLeft".into(), "KeyQ".into()],
            admin_hud_key: "F12".into(),
            idle_timeout_s: 90.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepsakeConfig {
    /// Save each finished painting (off by default: visitors' faces are personal data).
    pub enabled: bool,
    pub folder: PathBuf,
    /// Run after each save, e.g. `["lp", "-d", "gallery-printer", "{file}"]`; `{file}` is
    /// the saved painting. Empty: nothing is run. A failure shows on the admin overlay; the
    /// saved file stays.
    pub command: Vec<String>,
    /// The command is stopped (with everything it started) after this many seconds.
    pub command_timeout_s: f64,
}

impl Default for KeepsakeConfig {
    fn default() -> Self {
        KeepsakeConfig { enabled: false, folder: "gallery".into(), command: Vec::new(), command_timeout_s: 60.0 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// `GET /health` and `GET /metrics` on this address, e.g. "127.0.0.1:9107" (None: off).
    pub health_address: Option<String>,
    /// Allow an address other machines can reach (off: loopback only).
    pub allow_remote_health: bool,
}

impl InstallationConfig {
    /// Loads and validates; relative paths stay relative (resolve with [`crate::paths`]).
    pub fn load(path: &Path) -> Result<InstallationConfig, ConfigError> {
        let cfg: InstallationConfig = load_ron(path)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        // Each error points at the line that sets the field (`field:`), when the file sets it.
        let bad = |field: &str, m: String, fix: &str| Err(ConfigError::at_field(path, field, m, fix));
        let e = &self.engine;
        if let Err(m) = e.style.validate() {
            let field = m.split_whitespace().next().unwrap_or("style");
            let field = match field {
                "adam" | "lbfgs" => "optimizer",
                "layer" => "style_layers",
                f => f,
            };
            let field = format!("engine.style.{field}");
            let field = field.as_str();
            return bad(field, format!("engine.style: {m}"), "correct the value in engine.style");
        }
        if let Err(m) = e.live.validate() {
            let field = m.trim_start_matches("live.").split_whitespace().next().unwrap_or("live");
            let field = format!("engine.live.{field}");
            let field = field.as_str();
            return bad(
                field,
                format!("engine.{m}"),
                "correct the value in engine.live (the defaults are in the README)",
            );
        }
        if let Err((field, m, fix)) = self.share.check() {
            return bad(field, m, fix);
        }
        if self.share.enabled && self.service.health_address.as_deref() == Some(self.share.listen.as_str()) {
            return bad(
                "share.listen",
                "share.listen is the staff's health address: visitors must never reach a staff interface".into(),
                "give the guest listener a port of its own",
            );
        }
        if let Err((field, m, fix)) = self.console.validate() {
            return bad(field, m, fix);
        }
        if self.share.enabled && self.console.enabled && self.console.listen == self.share.listen {
            return bad(
                "share.listen",
                "share.listen is the console's address: visitors must never reach a staff interface".into(),
                "give the guest listener a port of its own",
            );
        }
        if let Some(address) = &self.service.health_address
            && let Err(m) = crate::service::http::check_address(address, self.service.allow_remote_health)
        {
            return bad(
                "service.health_address",
                format!("service.{m}"),
                "use e.g. health_address: Some(\"127.0.0.1:9107\")",
            );
        }
        if let Some(r) = &e.remote {
            if !crate::farm::protocol::valid_name(&r.kiosk) {
                return bad(
                    "engine.remote.kiosk",
                    format!("engine.remote.kiosk `{}` must be one word of letters, digits, `-` or `_`", r.kiosk),
                    "use e.g. kiosk: \"hall-2\" (unique per kiosk)",
                );
            }
            if !(r.url.starts_with("nats://") || r.url.starts_with("tls://")) {
                return bad(
                    "engine.remote.url",
                    format!("engine.remote.url `{}` is not a nats:// or tls:// address", r.url),
                    "use e.g. url: \"nats://10.0.0.5:4222\"",
                );
            }
            if !(0.5..=600.0).contains(&r.fallback_after_s) {
                return bad(
                    "engine.remote.fallback_after_s",
                    format!("engine.remote.fallback_after_s {} must be seconds within 0.5..600", r.fallback_after_s),
                    "use e.g. fallback_after_s: 3.0",
                );
            }
            if !(0.2..=30.0).contains(&r.live_frames_per_second) {
                return bad(
                    "engine.remote.live_frames_per_second",
                    format!("engine.remote.live_frames_per_second {} must be within 0.2..30", r.live_frames_per_second),
                    "use e.g. live_frames_per_second: 4.0",
                );
            }
            if r.user.is_some() != r.password_file.is_some() {
                return bad(
                    "engine.remote.user",
                    "engine.remote: user and password_file go together".into(),
                    "set both (the farm's users are made by scripts/farm-certs.sh), or neither",
                );
            }
        }
        if let Some(gpu) = &e.on_gpu {
            for policy in [Policy::Paint, Policy::Live] {
                if let Err(m) = gpu.apply(&e.style, policy).validate() {
                    let field = match m.split_whitespace().next() {
                        Some("levels") => "engine.on_gpu.levels",
                        Some("iterations") => "engine.on_gpu.iterations",
                        _ if policy == Policy::Live => "engine.on_gpu.live_size",
                        _ => "engine.on_gpu.size",
                    };
                    return bad(
                        field,
                        format!("engine.on_gpu: {m}"),
                        "correct the value in engine.on_gpu, or set on_gpu: None",
                    );
                }
            }
        }
        if !(1..=10_000).contains(&e.snapshot_every) {
            return bad(
                "engine.snapshot_every",
                format!("engine.snapshot_every {} must be within 1..10000", e.snapshot_every),
                "use e.g. 2",
            );
        }
        if !(0.0..=10.0).contains(&e.snapshot_interval_s) {
            return bad(
                "engine.snapshot_interval_s",
                format!("engine.snapshot_interval_s {} must be within 0..10", e.snapshot_interval_s),
                "use e.g. 0.1 (at most 10 snapshots a second), or 0 for one every snapshot_every iterations",
            );
        }
        if !(0.0..=MAX_SECONDS).contains(&e.hold_finished_s) {
            return bad(
                "engine.hold_finished_s",
                format!("engine.hold_finished_s {} must be seconds within 0..{MAX_SECONDS}", e.hold_finished_s),
                "use e.g. hold_finished_s: 8.0",
            );
        }
        if e.threads > 1024 {
            return bad(
                "engine.threads",
                format!("engine.threads {} is more than 1024", e.threads),
                "use 0 (all cores but one)",
            );
        }
        for (name, source) in [("source", &self.source), ("fallback", &self.fallback)] {
            match source {
                SourceConfig::Synthetic { fps, width, height, visitor, .. } => {
                    if let SyntheticVisitor::Scripted { away_s, still_s, stay_s } = visitor
                        && ![away_s, still_s, stay_s].iter().all(|v| (0.0..=3600.0).contains(*v))
                    {
                        return bad(
                            &format!("{name}.away_s"),
                            format!(
                                "{name}: Scripted visitor times ({away_s}, {still_s}, {stay_s}) must be seconds within 0..3600"
                            ),
                            "use e.g. visitor: Scripted(away_s: 8.0, still_s: 8.0, stay_s: 90.0)",
                        );
                    }
                    if !(*fps > 0.0 && *fps <= 240.0) {
                        return bad(
                            &format!("{name}.fps"),
                            format!("{name}: Synthetic fps {fps} must be within 0 < fps <= 240"),
                            "use e.g. fps: 15.0",
                        );
                    }
                    if !(16..=MAX_FRAME_EDGE).contains(width) || !(16..=MAX_FRAME_EDGE).contains(height) {
                        return bad(
                            &format!("{name}.width"),
                            format!(
                                "{name}: Synthetic {width}x{height} must be within 16..{MAX_FRAME_EDGE} px each way"
                            ),
                            "use e.g. width: 640, height: 480",
                        );
                    }
                }
                SourceConfig::Camera(c) => {
                    if !(1..=MAX_FRAME_EDGE).contains(&c.width) || !(1..=MAX_FRAME_EDGE).contains(&c.height) {
                        return bad(
                            &format!("{name}.width"),
                            format!(
                                "{name}: camera size {}x{} must be within 1..{MAX_FRAME_EDGE} px each way",
                                c.width, c.height
                            ),
                            "use a size the camera offers (list-cameras), e.g. width: 640, height: 480",
                        );
                    }
                    if !(1..=240).contains(&c.fps) {
                        return bad(
                            &format!("{name}.fps"),
                            format!("{name}: camera fps {} must be within 1..240", c.fps),
                            "use e.g. fps: 30",
                        );
                    }
                }
                SourceConfig::Slideshow { interval_s, .. } => {
                    if !(0.1..=MAX_SECONDS).contains(interval_s) {
                        return bad(
                            &format!("{name}.interval_s"),
                            format!("{name}: Slideshow interval_s {interval_s} must be within 0.1..{MAX_SECONDS}"),
                            "use e.g. interval_s: 20.0",
                        );
                    }
                }
                SourceConfig::Still { .. } => {}
            }
        }
        let d = &self.display;
        if !(64..=MAX_FRAME_EDGE * 2).contains(&d.width) || !(64..=MAX_FRAME_EDGE * 2).contains(&d.height) {
            return bad(
                "display.width",
                format!(
                    "display: window {}x{} must be within 64..{} px each way",
                    d.width,
                    d.height,
                    MAX_FRAME_EDGE * 2
                ),
                "use e.g. width: 1280, height: 720",
            );
        }
        if d.crossfade_ms > 60_000 {
            return bad(
                "display.crossfade_ms",
                format!("display.crossfade_ms {} is more than a minute", d.crossfade_ms),
                "use e.g. 400",
            );
        }
        if !(0.0..=MAX_SECONDS).contains(&d.attract_after_s) {
            return bad(
                "display.attract_after_s",
                format!("display.attract_after_s {} must be seconds within 0..{MAX_SECONDS}", d.attract_after_s),
                "use e.g. 30.0",
            );
        }
        if !(1.0..=3600.0).contains(&self.keepsake.command_timeout_s) {
            return bad(
                "keepsake.command_timeout_s",
                format!(
                    "keepsake.command_timeout_s {} must be seconds within 1..3600",
                    self.keepsake.command_timeout_s
                ),
                "use e.g. command_timeout_s: 60.0",
            );
        }
        if !(0.0..=MAX_SECONDS).contains(&self.kiosk.idle_timeout_s) {
            return bad(
                "kiosk.idle_timeout_s",
                format!("kiosk.idle_timeout_s {} must be seconds within 0..{MAX_SECONDS}", self.kiosk.idle_timeout_s),
                "use e.g. 90.0",
            );
        }
        if let Err(m) = self.presence.validate() {
            let field = m.trim_start_matches("presence.").split_whitespace().next().unwrap_or("presence");
            let field = format!("presence.{field}");
            return bad(&field, m, "correct the value in presence: (..)");
        }
        if let Err(m) = self.faces.validate() {
            let field = m.trim_start_matches("faces.").split_whitespace().next().unwrap_or("faces");
            return bad(&format!("faces.{field}"), m, "correct the value in faces: (..)");
        }
        let j = &self.journey;
        for (name, v) in [
            ("countdown_s", j.countdown_s),
            ("leave_grace_s", j.leave_grace_s),
            ("side_by_side_s", j.side_by_side_s),
            ("reveal_s", j.reveal_s),
            ("painting_timeout_s", j.painting_timeout_s),
            ("attract_cycle_s", j.attract_cycle_s),
        ] {
            if !(0.0..=MAX_SECONDS).contains(&v) {
                return bad(
                    &format!("journey.{name}"),
                    format!("journey.{name} {v} must be seconds within 0..{MAX_SECONDS}"),
                    "e.g. 3.0",
                );
            }
        }
        if j.show_recent_paintings > MAX_RECENT_PAINTINGS {
            return bad(
                "journey.show_recent_paintings",
                format!(
                    "journey.show_recent_paintings {} is more than {MAX_RECENT_PAINTINGS}",
                    j.show_recent_paintings
                ),
                "use 0 (a portrait leaves with its visitor) or a few",
            );
        }
        if j.enabled && j.capture == CaptureTrigger::Auto && !self.presence.enabled {
            return bad(
                "journey.capture",
                "journey.capture is auto but presence is disabled: nobody could ever be noticed".into(),
                "set journey: (capture: touch) or presence: (enabled: true)",
            );
        }
        if matches!(self.fallback, SourceConfig::Camera(_)) {
            return bad(
                "fallback",
                "fallback must not be a camera".into(),
                "use Synthetic(..), Still(..) or Slideshow(..)",
            );
        }
        if self.kiosk.admin_exit_chord.is_empty() {
            return bad(
                "kiosk.admin_exit_chord",
                "kiosk.admin_exit_chord is empty: the installation could not be quit".into(),
                "e.g. [\"ControlLeft\", \"AltLeft\", \"KeyQ\"]",
            );
        }
        for key in self.kiosk.admin_exit_chord.iter().chain([&self.kiosk.admin_hud_key]) {
            if super::keys::parse_key_name(key).is_none() {
                return bad(
                    if *key == self.kiosk.admin_hud_key { "kiosk.admin_hud_key" } else { "kiosk.admin_exit_chord" },
                    format!("unknown key name `{key}`"),
                    "use Bevy KeyCode names: KeyQ, ControlLeft, AltLeft, F12, Escape, ...",
                );
            }
        }
        Ok(())
    }
}
