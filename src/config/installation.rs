//! The whole installation's configuration (`config/installation.ron`): one section a file
//! beside this one; here the sections are put together and the settings that span sections
//! are checked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    CaptureTrigger, ConfigError, DisplayConfig, EngineConfig, FaceDetectionConfig, JourneyConfig, KeepsakeConfig,
    KioskConfig, PresenceConfig, ServiceConfig, SourceConfig, load_ron,
};

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
    /// The face detector (MTCNN by default, SeetaFace frontal when asked): presence, and face-aware painting.
    pub faces: FaceDetectionConfig,
    pub kiosk: KioskConfig,
    pub keepsake: KeepsakeConfig,
    /// The languages a visitor can choose; every visitor text is in `assets/i18n/<lang>/kiosk.ftl`.
    pub language: super::LanguageConfig,
    /// Take it home: a QR code at the reveal opens the painting on the visitor's phone.
    pub share: super::ShareConfig,
    /// Running unattended: the health endpoint.
    pub service: ServiceConfig,
    /// The curator console: the installation run from a browser (off by default).
    pub console: super::ConsoleConfig,
}

impl Default for InstallationConfig {
    fn default() -> Self {
        InstallationConfig {
            scene: "scenes/default.ron".into(),
            display: DisplayConfig::default(),
            source: SourceConfig::Camera(super::CameraConfig::default()),
            fallback: SourceConfig::demo(),
            camera_required: false,
            engine: EngineConfig::default(),
            journey: JourneyConfig::default(),
            presence: PresenceConfig::default(),
            faces: FaceDetectionConfig::default(),
            kiosk: KioskConfig::default(),
            keepsake: KeepsakeConfig::default(),
            language: super::LanguageConfig::default(),
            share: super::ShareConfig::default(),
            console: super::ConsoleConfig::default(),
            service: ServiceConfig::default(),
        }
    }
}

impl InstallationConfig {
    /// Loads and validates; relative paths stay relative (resolve with [`crate::paths`]).
    pub fn load(path: &Path) -> Result<InstallationConfig, ConfigError> {
        let cfg: InstallationConfig = load_ron(path)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// Each error points at the line that sets the field (`field:`), when the file sets it.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        self.check().map_err(|p| ConfigError::at_field(path, &p.field, p.message, p.fix))
    }

    fn check(&self) -> super::Checked {
        let bad = super::problem;
        self.engine.check()?;
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
            && let Err(m) = super::check_address(address, self.service.allow_remote_health)
        {
            return bad(
                "service.health_address",
                format!("service.{m}"),
                "use e.g. health_address: Some(\"127.0.0.1:9107\")",
            );
        }
        self.source.check("source")?;
        self.fallback.check("fallback")?;
        self.display.check()?;
        self.keepsake.check()?;
        self.kiosk.check()?;
        if let Err(i) = self.presence.validate() {
            return bad(&format!("presence.{}", i.field), i.message, "correct the value in presence: (..)");
        }
        if let Err(i) = self.faces.validate() {
            return bad(&format!("faces.{}", i.field), i.message, "correct the value in faces: (..)");
        }
        self.journey.check()?;
        let j = &self.journey;
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
        Ok(())
    }
}
