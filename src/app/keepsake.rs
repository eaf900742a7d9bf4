//! Visitor keepsake: each finished painting saved (off unless enabled, since a painting of
//! a visitor is personal data), and optionally handed to a command such as a photo
//! printer's `lp`. A failing command is reported on the admin overlay; the file stays.
//!
//! One keepsake thread does the saving and the command, from a short queue: a printer that
//! hangs costs one thread and one child (killed after `command_timeout`), never one per
//! painting; paintings that find the queue full are not saved, and the overlay says so.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::{Sender, TrySendError};

use super::AppSystems;
use super::pipeline::PaintingUpdated;

/// Paintings waiting for the keepsake thread; more are refused, not piled up.
pub const QUEUE: usize = 4;

#[derive(Resource, Clone)]
pub struct KeepsakeSettings {
    pub folder: PathBuf,
    /// Program and arguments run after each save; `{file}` becomes the saved path.
    pub command: Vec<String>,
    /// The command is killed (with anything it started) after this long.
    pub command_timeout: Duration,
}

/// The last keepsake problem (save, command or a full queue), for the admin overlay.
#[derive(Resource, Clone, Default)]
pub struct KeepsakeProblem(pub Arc<Mutex<Option<String>>>);

struct Job {
    image: Arc<image::RgbImage>,
    path: PathBuf,
}

/// The keepsake thread's queue (made with the first painting to keep).
struct Queue(Sender<Job>);

impl Queue {
    fn start(settings: &KeepsakeSettings, problem: &KeepsakeProblem) -> Queue {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(QUEUE);
        let (command, timeout, problem) = (settings.command.clone(), settings.command_timeout, problem.0.clone());
        std::thread::Builder::new()
            .name("keepsake".into())
            .spawn(move || {
                for job in rx {
                    let result = save(&job.image, &job.path).and_then(|()| run_command(&command, &job.path, timeout));
                    let mut slot = problem.lock().expect("keepsake problem lock");
                    match result {
                        Ok(()) => *slot = None,
                        Err(e) => {
                            tracing::error!("keepsake: {e}");
                            *slot = Some(e);
                        }
                    }
                }
            })
            .expect("spawn the keepsake thread");
        Queue(tx)
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<KeepsakeProblem>()
        .add_systems(Update, save_finished.in_set(AppSystems::Present).run_if(resource_exists::<KeepsakeSettings>));
}

fn save_finished(
    mut updates: MessageReader<PaintingUpdated>,
    playlist: Option<Res<super::rotation::Playlist>>,
    settings: Res<KeepsakeSettings>,
    problem: Res<KeepsakeProblem>,
    mut queue: Local<Option<Queue>>,
    mut last: Local<Option<(u64, String)>>,
    mut saved: Local<u64>,
) {
    for PaintingUpdated(s) in updates.read() {
        let key = (s.frame_seq, s.style_key.clone());
        if !s.finished || last.as_ref() == Some(&key) {
            continue;
        }
        *last = Some(key);
        *saved += 1;
        // Time, frame and a count of this run's saves: two saves never share a name, so one
        // can never silently overwrite another.
        let time = chrono::Local::now().format("%Y%m%d-%H%M%S");
        // Named by the artwork's title where the scene has its id (a staff member reads it).
        let artwork = playlist.as_deref().and_then(|p| Some(&p.scene.entries[p.index_of(&s.style_key)?].title));
        let name = format!("{time}-f{}-{}-{}.png", s.frame_seq, *saved, slug(artwork.unwrap_or(&s.style_key)));
        let job = Job { image: s.image.clone(), path: settings.folder.join(name) };
        let queue = queue.get_or_insert_with(|| Queue::start(&settings, &problem));
        if let Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) = queue.0.try_send(job) {
            let e = format!(
                "keepsake skipped: {QUEUE} paintings are still waiting for the keepsake command (slow or hanging?); {} not saved",
                job.path.display()
            );
            tracing::error!("{e}");
            *problem.0.lock().expect("keepsake problem lock") = Some(e);
        }
    }
}

fn save(image: &image::RgbImage, path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    // A visitor's portrait: created for the kiosk user only (whatever the session's umask),
    // and never over another file.
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e: &dyn std::fmt::Display| format!("cannot save {}: {e}", path.display());
    let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| err(&e))?;
    let mut out = std::io::BufWriter::new(file);
    image.write_to(&mut out, image::ImageFormat::Png).map_err(|e| err(&e))?;
    std::io::Write::flush(&mut out).map_err(|e| err(&e))?;
    tracing::info!("keepsake saved: {}", path.display());
    Ok(())
}

/// Runs the configured command on the saved file; its failure keeps the file. After
/// `timeout` the command and every process it started are killed.
pub fn run_command(command: &[String], file: &Path, timeout: Duration) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = command.split_first() else { return Ok(()) };
    let file = file.display().to_string();
    let args: Vec<String> = args.iter().map(|a| a.replace("{file}", &file)).collect();
    // Its own process group: a timeout kills what the command started too (a shell's children).
    let mut child = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("keepsake command `{program}` could not start: {e} (the painting is saved at {file})"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            result => {
                let pgid = child.id() as libc::pid_t;
                // SAFETY: kill(2) on the process group we created; no memory is involved.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                let _ = child.wait();
                let why = match result {
                    Err(e) => format!("could not be watched ({e})"),
                    _ => format!("did not finish in {:.0} s and was stopped", timeout.as_secs_f64()),
                };
                return Err(format!("keepsake command `{program}` {why} (the painting is saved at {file})"));
            }
        }
    };
    if status.success() {
        tracing::info!("keepsake command `{program}` done for {file}");
        Ok(())
    } else {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        Err(format!(
            "keepsake command `{program}` failed ({status}): {} (the painting is saved at {file})",
            stderr.trim()
        ))
    }
}

fn slug(s: &str) -> String {
    let s: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}
