//! The curator console, the display's side: carries out the staff's commands (next and
//! previous artwork, pause and resume the rotation, restart the painter), tells the console
//! the journey's moment, and takes a scaled picture of the screen every few seconds while
//! somebody looks at the Now page.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bevy::prelude::*;
use bevy::render::view::window::screenshot::{Screenshot, ScreenshotCaptured};

use super::AppSystems;
use super::journey::Journey;
use super::pipeline::SendCommand;
use super::rotation::{ArtworkChanged, Playlist, StaffRotation};
use crate::console::{Board, StaffCommand};
use crate::painting::Command;

/// The console's board and the commands it sends.
#[derive(Resource)]
pub struct ConsoleDesk {
    pub board: Arc<Board>,
    pub commands: crossbeam_channel::Receiver<StaffCommand>,
    /// Where the statistics are kept.
    pub state_dir: std::path::PathBuf,
}

/// A picture of the screen at most this often.
pub const SCREEN_EVERY: Duration = Duration::from_secs(3);
/// The picture's width on the Now page (height follows the screen).
pub const SCREEN_WIDTH: u32 = 640;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, carry_out_staff_commands.in_set(AppSystems::Input).run_if(resource_exists::<ConsoleDesk>))
        .add_systems(Last, (report_now, take_screen_picture).run_if(resource_exists::<ConsoleDesk>))
        .add_systems(Update, count_for_statistics.after(AppSystems::Logic).run_if(resource_exists::<ConsoleDesk>));
}

fn carry_out_staff_commands(
    desk: Res<ConsoleDesk>,
    mut rotation: MessageWriter<StaffRotation>,
    mut worker: MessageWriter<SendCommand>,
) {
    for command in desk.commands.try_iter() {
        tracing::info!("console: {}", command.name());
        match command {
            StaffCommand::NextArtwork => {
                rotation.write(StaffRotation::Next);
            }
            StaffCommand::PreviousArtwork => {
                rotation.write(StaffRotation::Previous);
            }
            StaffCommand::PauseRotation => {
                rotation.write(StaffRotation::Pause);
            }
            StaffCommand::ResumeRotation => {
                rotation.write(StaffRotation::Resume);
            }
            StaffCommand::RestartPainter => {
                worker.write(SendCommand(Command::Restart));
            }
        }
    }
}

fn report_now(desk: Res<ConsoleDesk>, journey: Option<Res<State<Journey>>>, playlist: Option<Res<Playlist>>) {
    let mut now = desk.board.now.lock().unwrap_or_else(|e| e.into_inner());
    now.journey =
        journey.map(|j| format!("{:?}", j.get())).unwrap_or_else(|| "no visitor journey (continuous painting)".into());
    now.rotation_paused = playlist.is_some_and(|p| p.paused_by_staff);
}

fn take_screen_picture(
    mut commands: Commands,
    desk: Res<ConsoleDesk>,
    windows: Query<(), With<bevy::window::PrimaryWindow>>,
    mut last: Local<Option<Instant>>,
) {
    let now = Instant::now();
    if windows.is_empty()
        || !desk.board.screen_wanted(now)
        || last.is_some_and(|t| now.duration_since(t) < SCREEN_EVERY)
    {
        return;
    }
    *last = Some(now);
    let board = desk.board.clone();
    commands.spawn(Screenshot::primary_window()).observe(move |captured: On<ScreenshotCaptured>| {
        let Ok(picture) = captured.image.clone().try_into_dynamic() else { return };
        let board = board.clone();
        // Scaling and encoding take milliseconds: off the render loop.
        std::thread::spawn(move || match screen_jpeg(&picture.to_rgb8()) {
            Ok(jpeg) => {
                let mut now = board.now.lock().unwrap_or_else(|e| e.into_inner());
                now.screen_jpeg = Some(Arc::new(jpeg));
                now.screen_taken = Some(SystemTime::now());
            }
            Err(e) => tracing::warn!("console: cannot encode the screen picture: {e}"),
        });
    });
}

/// The screen at [`SCREEN_WIDTH`], as JPEG.
pub fn screen_jpeg(screen: &image::RgbImage) -> image::ImageResult<Vec<u8>> {
    let height = (screen.height() as u64 * SCREEN_WIDTH as u64 / screen.width().max(1) as u64).max(1) as u32;
    let small = image::imageops::thumbnail(screen, SCREEN_WIDTH, height);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small)?;
    Ok(out)
}

/// Counts visitors and paintings (from the health counters) and visitors' picks against the
/// artwork on show, and writes the numbers to the state directory at most once a minute.
pub fn count_for_statistics(
    desk: Res<ConsoleDesk>,
    playlist: Option<Res<Playlist>>,
    mut changed: MessageReader<ArtworkChanged>,
    mut seen: Local<Option<(u64, u64)>>,
    mut saved: Local<Option<Instant>>,
    mut unsaved: Local<bool>,
) {
    use crate::console::stats::Happening;
    let Some(playlist) = playlist else { return };
    // Two counters under the lock: no copy of the whole report every frame.
    let (now_visitors, now_paintings) = {
        let h = desk.board.health.lock().unwrap_or_else(|e| e.into_inner());
        (h.visitors, h.paintings_finished)
    };
    let now = chrono::Local::now().naive_local();
    let mut stats = desk.board.stats();
    // The first look is the baseline: totals restored from a saved state are not new visitors.
    let (visitors, paintings) = seen.unwrap_or((now_visitors, now_paintings));
    let mut happened: Vec<(Happening, String)> = Vec::new();
    let title = &playlist.entry().title;
    happened.extend((visitors..now_visitors.max(visitors)).map(|_| (Happening::Visitor, title.clone())));
    happened.extend((paintings..now_paintings.max(paintings)).map(|_| (Happening::Painting, title.clone())));
    *seen = Some((now_visitors, now_paintings));
    for c in changed.read().filter(|c| c.by_visitor) {
        if let Some(e) = playlist.scene.entries.get(c.index) {
            happened.push((Happening::Pick, e.title.clone()));
        }
    }
    for (what, artwork) in &happened {
        stats.record(*what, artwork, now);
    }
    *unsaved |= !happened.is_empty();
    if *unsaved && saved.is_none_or(|t| t.elapsed() >= STATS_SAVE_EVERY) {
        *saved = Some(Instant::now());
        *unsaved = false;
        if let Err(e) = stats.save(&desk.state_dir) {
            tracing::warn!("statistics: cannot write {}: {e}", desk.state_dir.display());
        }
    }
}

/// The numbers are written at most this often (a crash loses less than this).
pub const STATS_SAVE_EVERY: Duration = Duration::from_secs(60);
