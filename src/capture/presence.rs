//! Is somebody in front of the camera, and are they holding still? Answered from two signals
//! in the capture thread: faces (MTCNN or SeetaFace, see `faces.rs`), and a running background model
//! with frame differencing on a small grey copy of each frame.
//!
//! With the face detector:
//! - **Noticed** when a face looks at the kiosk in `face_frames` detections in a row, or when
//!   the foreground covers `close_area` (someone came close: a child below the camera, a
//!   profile). A light change with no face never starts a countdown: **still** needs a face
//!   seen during the visit.
//! - **Held**: a face seen within `face_hold_s` keeps the visitor present, and where the
//!   visitor stands (a column around and below their face) nothing fades into the background
//!   meanwhile, so a visitor who holds still stays noticed. The rest of the room is learnt as
//!   ever: the sun moving, a lamp, a bag put down do not pile up as a ghost that would keep an
//!   empty room "present" after the visitor left. A face that turns away leaves the body,
//!   which the foreground still sees. A visit that never showed a face fades into the
//!   background at `faceless_absorb_rate` (a sun patch ends in ~half a minute).
//! - **Still and gone, with faces**: a countdown needs someone there (a face in the latest
//!   detection, or a body covering `enter_area`); a visitor whose face has gone counts as
//!   gone once the foreground is under `enter_area` for `leave_after_s` (what is left of the
//!   room's changes is smaller than a body).
//! - A visitor already in view at start is part of the background: noticed by the face; when
//!   their face is gone the background is learnt again from the frame.
//!
//! Without it (or with it off), the foreground alone, as follows.
//!
//! Per frame (`analysis_width` x proportional height, ~80x60):
//! - **Lighting**: the frame is compared with the background after a global gain correction
//!   (the median of frame/background over the region), so a light switched on or the camera's
//!   auto-exposure does not look like a visitor.
//! - **Foreground**: share of the region whose grey level differs from the background by more
//!   than `pixel_threshold`. Someone is there when it stays above `enter_area` for
//!   `enter_frames` frames, and gone when it stays below `leave_area` (lower: hysteresis) for
//!   `leave_after_s`.
//! - **Motion**: share of the region that changed since the previous frame. Still when it
//!   stays under `still_motion` for `still_after_s`.
//! - **Background**: follows the frame where nobody is (`background_rate`), and slowly
//!   everywhere (`absorb_rate`), so a moved bench becomes background within minutes.
//!
//! Limits without faces (see docs/visitors.md, "Presence"): a person standing perfectly still for several minutes
//! is absorbed into the background and counts as gone; strong local light changes (sun
//! patches, flickering screens in view) can count as a visitor; a crowd is one "visitor";
//! someone in view when the installation starts is part of the background until they move.

pub use crate::config::PresenceConfig;
use image::RgbImage;

use super::faces::FacesSeen;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceEvent {
    /// Somebody stepped in.
    Entered,
    /// They are holding still (once per pause; re-armed by moving).
    Still,
    /// They moved again after holding still.
    Moved,
    /// Nobody there any more.
    Left,
}

/// The detector's view after the latest frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PresenceReading {
    pub present: bool,
    pub still: bool,
    /// Share of the region that differs from the background (0..1).
    pub foreground: f32,
    /// Share of the region that changed since the previous frame (0..1).
    pub motion: f32,
    /// Somebody is in view in this very frame: a face in the latest detection, or a body's
    /// worth of foreground (`enter_area`). What a photo needs; `present` lags by design.
    pub in_view: bool,
}

impl PresenceReading {
    pub fn describe(&self) -> &'static str {
        match (self.present, self.still) {
            (false, _) => "absent",
            (true, false) => "present",
            (true, true) => "still",
        }
    }
}

pub struct PresenceDetector {
    cfg: PresenceConfig,
    width: usize,
    height: usize,
    /// Region of interest in analysis pixels: x0, y0, x1, y1 (exclusive).
    roi: (usize, usize, usize, usize),
    background: Vec<f32>,
    previous: Vec<f32>,
    grey: Vec<f32>,
    ratios: Vec<f32>,
    last_t: f64,
    above_frames: u32,
    below_since: Option<f64>,
    quiet_since: Option<f64>,
    reading: PresenceReading,
    /// The face detector's reports reach this detector.
    faces_on: bool,
    /// Detections in a row with a face.
    face_streak: u32,
    last_face_at: Option<f64>,
    /// A face was seen since the visitor was noticed (a countdown needs one).
    face_in_visit: bool,
    /// Noticed by a face while hardly in the foreground: they are part of the background.
    in_background: bool,
    /// The faces seen last (fractions of the frame): where the visitor stands.
    last_faces: Vec<crate::engine::FaceBox>,
}

impl PresenceDetector {
    pub fn new(cfg: PresenceConfig) -> PresenceDetector {
        PresenceDetector {
            cfg,
            width: 0,
            height: 0,
            roi: (0, 0, 0, 0),
            background: Vec::new(),
            previous: Vec::new(),
            grey: Vec::new(),
            ratios: Vec::new(),
            last_t: 0.0,
            above_frames: 0,
            below_since: None,
            quiet_since: None,
            reading: PresenceReading::default(),
            faces_on: false,
            face_streak: 0,
            last_face_at: None,
            face_in_visit: false,
            in_background: false,
            last_faces: Vec::new(),
        }
    }

    pub fn reading(&self) -> PresenceReading {
        self.reading
    }

    /// Forgets the background (another source, another view). Says `Left` if someone was there.
    pub fn reset(&mut self) -> Option<PresenceEvent> {
        let was_present = self.reading.present;
        *self = PresenceDetector::new(self.cfg.clone());
        was_present.then_some(PresenceEvent::Left)
    }

    /// Takes the next frame, captured at `t` seconds (any monotonic origin). Returns what
    /// changed, in order (at most two events, e.g. Moved then Left).
    pub fn update(&mut self, frame: &RgbImage, t: f64) -> Vec<PresenceEvent> {
        self.update_with_faces(frame, t, None)
    }

    /// [`PresenceDetector::update`] with what the face detector saw in this frame.
    pub fn update_with_faces(&mut self, frame: &RgbImage, t: f64, faces: Option<FacesSeen>) -> Vec<PresenceEvent> {
        let mut events = Vec::new();
        if let Some(seen) = faces {
            self.faces_on = true;
            if seen.fresh {
                if seen.faces.is_empty() {
                    self.face_streak = 0;
                } else {
                    self.face_streak += 1;
                    self.last_face_at = Some(t);
                    self.last_faces = seen.faces.to_vec();
                }
            }
        }
        let face_recent = self.face_recent(t);
        self.downscale(frame);
        if self.background.len() != self.grey.len() {
            // First frame (or a new frame size): it becomes the background.
            self.background = self.grey.clone();
            self.previous = self.grey.clone();
            self.last_t = t;
            return events;
        }
        let dt = (t - self.last_t).clamp(0.0, 1.0) as f32;
        self.last_t = t;
        let gain_bg = self.median_ratio(true);
        let gain_prev = self.median_ratio(false);
        let thr = self.cfg.pixel_threshold;
        let (x0, y0, x1, y1) = self.roi;
        let roi_pixels = ((x1 - x0) * (y1 - y0)).max(1) as f32;
        let fast = 1.0 - (-self.cfg.background_rate * dt).exp();
        // Someone looking at the kiosk does not fade into the background where they stand,
        // however still; a visit that never showed a face (light, a bag) fades faster than
        // the room's objects.
        let absorb = if self.faces_on && self.reading.present && !self.face_in_visit && !face_recent {
            self.cfg.faceless_absorb_rate.max(self.cfg.absorb_rate)
        } else {
            self.cfg.absorb_rate
        };
        let slow = 1.0 - (-absorb * dt).exp();
        let visitor = if face_recent { self.visitor_columns() } else { Vec::new() };
        if self.in_background && self.reading.present && !face_recent {
            // The visitor was part of the background and their face is gone (they left, or
            // turned away and are background anyway): learn the room again from this frame.
            self.background.copy_from_slice(&self.grey);
            self.in_background = false;
        }
        let (mut fg, mut moving) = (0u32, 0u32);
        for y in 0..self.height {
            for x in 0..self.width {
                let i = y * self.width + x;
                let g = self.grey[i];
                // Re-light the background with the global gain, then compare.
                let bg = self.background[i] * gain_bg;
                let is_fg = (g - bg).abs() > thr;
                let in_roi = x >= x0 && x < x1 && y >= y0 && y < y1;
                if in_roi {
                    fg += is_fg as u32;
                    moving += ((g - self.previous[i] * gain_prev).abs() > thr) as u32;
                }
                let held = visitor.iter().any(|&(cx0, cx1, cy0)| x >= cx0 && x < cx1 && y >= cy0);
                let rate = if held {
                    0.0
                } else if is_fg {
                    slow
                } else {
                    fast.max(slow)
                };
                self.background[i] = bg + rate * (g - bg);
            }
        }
        std::mem::swap(&mut self.previous, &mut self.grey);
        self.reading.foreground = fg as f32 / roi_pixels;
        self.reading.motion = moving as f32 / roi_pixels;
        self.step_state(t, &mut events);
        events
    }

    fn face_recent(&self, t: f64) -> bool {
        self.last_face_at.is_some_and(|at| t - at <= self.cfg.face_hold_s as f64)
    }

    /// Where the visitors of the last faces stand, in analysis pixels (x0, x1, y0): from half
    /// a face above each face to the bottom, a face and a half to each side (the shoulders).
    fn visitor_columns(&self) -> Vec<(usize, usize, usize)> {
        let (w, h) = (self.width as f32, self.height as f32);
        self.last_faces
            .iter()
            .map(|f| {
                let x0 = ((f.x - 1.5 * f.w) * w).floor().max(0.0) as usize;
                let x1 = ((f.x + 2.5 * f.w) * w).ceil().clamp(0.0, w) as usize;
                let y0 = ((f.y - 0.5 * f.h) * h).floor().max(0.0) as usize;
                (x0, x1, y0)
            })
            .collect()
    }

    fn step_state(&mut self, t: f64, events: &mut Vec<PresenceEvent>) {
        let face_recent = self.face_recent(t);
        let c = &self.cfg;
        let r = &mut self.reading;
        r.in_view = (self.faces_on && self.face_streak > 0) || r.foreground >= c.enter_area;
        if !r.present {
            // Without a face, the foreground must say someone came close; a light patch is
            // smaller. Without the detector, enter_area as before.
            let body_area = if self.faces_on { c.close_area } else { c.enter_area };
            if r.foreground >= body_area {
                self.above_frames += 1;
            } else {
                self.above_frames = 0;
            }
            let by_face = self.faces_on && self.face_streak >= c.face_frames.max(1);
            if by_face || self.above_frames >= c.enter_frames.max(1) {
                r.present = true;
                r.still = false;
                self.below_since = None;
                self.quiet_since = None;
                self.face_in_visit = face_recent;
                self.in_background = by_face && r.foreground < c.enter_area;
                events.push(PresenceEvent::Entered);
            }
            return;
        }
        self.face_in_visit |= face_recent;
        // Seen as foreground, the visitor is not part of the background (a face noticed at the
        // edge of the picture, before the body came in): their face going away later must not
        // make the room be learnt again with them in it (they would "leave" while standing
        // there, and their ghost would stay present after they left).
        if r.foreground >= c.enter_area {
            self.in_background = false;
        }
        // Present: stillness first. It needs someone there: an empty scene is motionless too,
        // and a visitor walking out must not look "still" and start a countdown. With the
        // face detector, it needs a face seen during the visit (a light change has none), and
        // a face now or a body's worth of foreground (what the room left is smaller).
        let someone_there = if self.faces_on {
            self.face_streak > 0 || r.foreground >= c.enter_area
        } else {
            r.foreground >= c.leave_area
        };
        let countdown_allowed = !self.faces_on || self.face_in_visit;
        if r.motion <= c.still_motion && someone_there && countdown_allowed {
            let since = *self.quiet_since.get_or_insert(t);
            if !r.still && t - since >= c.still_after_s as f64 {
                r.still = true;
                events.push(PresenceEvent::Still);
            }
        } else if r.motion > c.still_motion * 3.0 || !someone_there {
            // Some hysteresis here too: breathing and camera noise do not break stillness.
            self.quiet_since = None;
            if r.still {
                r.still = false;
                events.push(PresenceEvent::Moved);
            }
        }
        // Gone: with faces, a visit whose face has gone ends when less than a body is left.
        let gone_below = if self.faces_on && self.face_in_visit { c.enter_area } else { c.leave_area };
        if r.foreground < gone_below && !face_recent {
            let since = *self.below_since.get_or_insert(t);
            if t - since >= c.leave_after_s as f64 {
                r.present = false;
                r.still = false;
                self.above_frames = 0;
                events.push(PresenceEvent::Left);
            }
        } else {
            self.below_since = None;
        }
    }

    /// Box-filtered grey copy of the frame at the analysis size.
    fn downscale(&mut self, frame: &RgbImage) {
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        let w = (self.cfg.analysis_width as usize).min(fw).max(1);
        let h = ((fh * w) / fw.max(1)).max(1);
        if (w, h) != (self.width, self.height) {
            self.width = w;
            self.height = h;
            let (x0, y0, x1, y1) = self.cfg.region;
            let px = |f: f32, n: usize| ((f * n as f32).round() as usize).min(n);
            self.roi = (px(x0, w), px(y0, h), px(x1, w).max(px(x0, w) + 1), px(y1, h).max(px(y0, h) + 1));
            self.background.clear();
        }
        self.grey.clear();
        self.grey.resize(w * h, 0.0);
        let raw = frame.as_raw();
        let mut counts = vec![0u32; w * h];
        for y in 0..fh {
            let gy = y * h / fh;
            let row = &raw[y * fw * 3..(y + 1) * fw * 3];
            for x in 0..fw {
                let gx = x * w / fw;
                let p = &row[x * 3..x * 3 + 3];
                // Rec. 601 luma.
                let luma = 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
                let i = gy * w + gx;
                self.grey[i] += luma;
                counts[i] += 1;
            }
        }
        for (g, n) in self.grey.iter_mut().zip(counts) {
            *g /= n.max(1) as f32;
        }
    }

    /// Median of frame/reference over the region: the global gain between them.
    fn median_ratio(&mut self, against_background: bool) -> f32 {
        let reference = if against_background { &self.background } else { &self.previous };
        let (x0, y0, x1, y1) = self.roi;
        self.ratios.clear();
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * self.width + x;
                // Nearly black pixels say nothing about the gain.
                if reference[i] > 8.0 {
                    self.ratios.push(self.grey[i] / reference[i]);
                }
            }
        }
        if self.ratios.len() < 8 {
            return 1.0;
        }
        let mid = self.ratios.len() / 2;
        let (_, m, _) = self.ratios.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
        m.clamp(0.2, 5.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(w: u32, h: u32, v: u8) -> RgbImage {
        RgbImage::from_pixel(w, h, image::Rgb([v, v, v]))
    }

    #[test]
    fn the_region_is_mapped_to_analysis_pixels() {
        let mut d = PresenceDetector::new(PresenceConfig { region: (0.25, 0.5, 0.75, 1.0), ..Default::default() });
        d.update(&flat(160, 120, 100), 0.0);
        assert_eq!((d.width, d.height), (80, 60));
        assert_eq!(d.roi, (20, 30, 60, 60));
    }

    #[test]
    fn invalid_regions_and_hysteresis_are_rejected() {
        let bad = PresenceConfig { region: (0.5, 0.0, 0.4, 1.0), ..Default::default() };
        assert!(bad.validate().unwrap_err().message.contains("x0 < x1"));
        let bad = PresenceConfig { leave_area: 0.05, enter_area: 0.04, ..Default::default() };
        assert!(bad.validate().unwrap_err().message.contains("below enter_area"));
        PresenceConfig::default().validate().unwrap();
    }
}
