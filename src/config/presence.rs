//! `presence:` in `config/installation.ron`: how the camera tells that a visitor came, stands
//! still and left (the detector is `crate::capture::presence`).

use serde::{Deserialize, Serialize};

use crate::engine::Invalid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceConfig {
    /// Look for visitors at all (off: the journey starts only by touch).
    pub enabled: bool,
    /// Width of the grey frame the detector works on, px (height keeps the aspect).
    pub analysis_width: u32,
    /// Sensitivity: grey-level difference (0..255) for a pixel to count as changed.
    pub pixel_threshold: f32,
    /// Region of interest (x0, y0, x1, y1) as fractions of the frame: where visitors stand.
    pub region: (f32, f32, f32, f32),
    /// Share of the region that must differ from the background for someone to be there.
    pub enter_area: f32,
    /// Below this share (lower than enter_area: hysteresis) they count as gone.
    pub leave_area: f32,
    /// Frames in a row above enter_area before "entered".
    pub enter_frames: u32,
    /// Seconds in a row below leave_area before "left".
    pub leave_after_s: f32,
    /// Share of the region changing between frames under which the visitor is still.
    pub still_motion: f32,
    /// Seconds of stillness before "still".
    pub still_after_s: f32,
    /// How fast the background follows the frame where nobody is, per second (0..1).
    pub background_rate: f32,
    /// How fast everything (a person standing still too) fades into the background, per second.
    pub absorb_rate: f32,
    /// With faces: detections in a row with a face before "entered".
    pub face_frames: u32,
    /// With faces: a face seen this recently keeps the visitor present (and unabsorbed).
    pub face_hold_s: f32,
    /// With faces: without one, the share of the region that must differ for "someone came
    /// close" (children below the camera, profiles). Above enter_area: a light patch is smaller.
    pub close_area: f32,
    /// With faces: how fast a visit with no face seen (a sun patch, a bag, a child below the
    /// camera standing still) fades into the background, per second.
    pub faceless_absorb_rate: f32,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            enabled: true,
            analysis_width: 80,
            pixel_threshold: 28.0,
            region: (0.05, 0.05, 0.95, 1.0),
            enter_area: 0.04,
            leave_area: 0.015,
            enter_frames: 3,
            leave_after_s: 1.5,
            still_motion: 0.006,
            still_after_s: 1.0,
            background_rate: 0.5,
            absorb_rate: 0.004,
            face_frames: 2,
            face_hold_s: 3.0,
            close_area: 0.15,
            faceless_absorb_rate: 0.05,
        }
    }
}

impl PresenceConfig {
    pub fn validate(&self) -> Result<(), Invalid> {
        let (x0, y0, x1, y1) = self.region;
        if !(0.0 <= x0 && x0 < x1 && x1 <= 1.0 && 0.0 <= y0 && y0 < y1 && y1 <= 1.0) {
            return Err(Invalid::new(
                "region",
                format!(
                    "presence.region {:?} must be (x0, y0, x1, y1) fractions with x0 < x1 and y0 < y1, within 0..1",
                    self.region
                ),
            ));
        }
        if self.leave_area >= self.enter_area {
            return Err(Invalid::new(
                "leave_area",
                format!(
                    "presence.leave_area {} must be below enter_area {} (the gap stops flicker)",
                    self.leave_area, self.enter_area
                ),
            ));
        }
        if !(8..=640).contains(&self.analysis_width) {
            return Err(Invalid::new(
                "analysis_width",
                format!("presence.analysis_width {} must be within 8..640", self.analysis_width),
            ));
        }
        if !(1.0..=255.0).contains(&self.pixel_threshold) {
            return Err(Invalid::new(
                "pixel_threshold",
                format!("presence.pixel_threshold {} must be within 1..255", self.pixel_threshold),
            ));
        }
        for (name, v) in [
            ("enter_area", self.enter_area),
            ("leave_area", self.leave_area),
            ("still_motion", self.still_motion),
            ("background_rate", self.background_rate),
            ("absorb_rate", self.absorb_rate),
            ("close_area", self.close_area),
            ("faceless_absorb_rate", self.faceless_absorb_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Invalid::new(name, format!("presence.{name} {v} must be a share within 0..1")));
            }
        }
        if self.close_area < self.enter_area {
            return Err(Invalid::new(
                "close_area",
                format!(
                    "presence.close_area {} must be at least enter_area {} (someone close covers more)",
                    self.close_area, self.enter_area
                ),
            ));
        }
        if !(1..=100).contains(&self.face_frames) {
            return Err(Invalid::new(
                "face_frames",
                format!("presence.face_frames {} must be within 1..100", self.face_frames),
            ));
        }
        for (name, v) in [
            ("leave_after_s", self.leave_after_s),
            ("still_after_s", self.still_after_s),
            ("face_hold_s", self.face_hold_s),
        ] {
            if !(0.0..=600.0).contains(&v) {
                return Err(Invalid::new(name, format!("presence.{name} {v} must be seconds within 0..600")));
            }
        }
        if !(1..=1000).contains(&self.enter_frames) {
            return Err(Invalid::new(
                "enter_frames",
                format!("presence.enter_frames {} must be within 1..1000", self.enter_frames),
            ));
        }
        Ok(())
    }
}
