//! The curator console: the installation run from a browser on the museum network. Served by
//! the staff's HTTP server beside `/health` and `/metrics`, off by default, and closed to
//! everybody until a password is set (`gallery-painter console set-password`).
//!
//! Knows nothing of Bevy: the display fills the [`Board`] (what is on screen, the journey) and
//! drains the [`StaffCommand`]s the console sends.

pub mod artworks;
pub mod auth;
pub mod pages;
pub mod scenes;
pub mod server;
pub mod stats;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use crate::config::ConsoleConfig;
use crate::service::health::Health;

/// What staff can do from the console's Now page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffCommand {
    NextArtwork,
    PreviousArtwork,
    PauseRotation,
    ResumeRotation,
    RestartPainter,
}

impl StaffCommand {
    /// The name in the console's URLs and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            StaffCommand::NextArtwork => "next-artwork",
            StaffCommand::PreviousArtwork => "previous-artwork",
            StaffCommand::PauseRotation => "pause-rotation",
            StaffCommand::ResumeRotation => "resume-rotation",
            StaffCommand::RestartPainter => "restart-painter",
        }
    }

    pub const ALL: [StaffCommand; 5] = [
        StaffCommand::PreviousArtwork,
        StaffCommand::NextArtwork,
        StaffCommand::PauseRotation,
        StaffCommand::ResumeRotation,
        StaffCommand::RestartPainter,
    ];

    pub fn from_name(name: &str) -> Option<StaffCommand> {
        StaffCommand::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// What the display reports for the Now page.
#[derive(Clone, Debug, Default)]
pub struct NowView {
    /// The screen, scaled, as JPEG.
    pub screen_jpeg: Option<Arc<Vec<u8>>>,
    pub screen_taken: Option<SystemTime>,
    /// The journey's moment (Attract, Countdown, Painting, Reveal, ...).
    pub journey: String,
    pub rotation_paused: bool,
}

/// Shared between the display and the console.
pub struct Board {
    pub health: Arc<Mutex<Health>>,
    pub now: Mutex<NowView>,
    /// The exhibition's numbers (the display counts, the console shows).
    pub stats: Mutex<stats::Stats>,
    /// When somebody last looked at the screen picture: the display takes pictures only while
    /// somebody is looking.
    screen_wanted: Mutex<Option<Instant>>,
    commands: crossbeam_channel::Sender<StaffCommand>,
}

/// Screen pictures are taken while a Now page asked for one this recently.
pub const SCREEN_WANTED_FOR: Duration = Duration::from_secs(20);

impl Board {
    pub fn new(health: Arc<Mutex<Health>>) -> (Arc<Board>, crossbeam_channel::Receiver<StaffCommand>) {
        // Bounded: a display that stopped reading cannot make the console grow memory.
        let (tx, rx) = crossbeam_channel::bounded(64);
        let board = Board {
            health,
            now: Mutex::default(),
            stats: Mutex::default(),
            screen_wanted: Mutex::new(None),
            commands: tx,
        };
        (Arc::new(board), rx)
    }

    /// Hands a command to the display; false when the display is not taking them.
    pub fn send(&self, command: StaffCommand) -> bool {
        self.commands.try_send(command).is_ok()
    }

    pub fn want_screen(&self, now: Instant) {
        *self.screen_wanted.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    }

    /// Is somebody looking at the screen picture?
    pub fn screen_wanted(&self, now: Instant) -> bool {
        self.screen_wanted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| now.duration_since(t) < SCREEN_WANTED_FOR)
    }

    pub fn now_view(&self) -> NowView {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn stats(&self) -> std::sync::MutexGuard<'_, stats::Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn health(&self) -> Health {
        self.health.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
