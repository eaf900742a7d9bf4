//! The gallery app's logic in headless Bevy apps (no window, no GPU): rotation timing,
//! visitor picks, idle resume, scene hot reload, kiosk exit and close requests.

use crate::common;

use std::path::Path;
use std::time::Duration;

use bevy::input::ButtonState;
use bevy::input::InputPlugin;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use bevy::window::WindowCloseRequested;
use crossbeam_channel::Receiver;
use gallery_painter::app::{
    self, AppSystems, Engagement, KioskSettings, Picker, Pipeline, Playlist, SceneProblem, SceneWatch, Thumbnail,
};
use gallery_painter::engine::StyleParams;
use gallery_painter::painting::Command;
use gallery_painter::scene::Scene;

const STEP: f64 = 0.1;

fn scene_text(durations: [f64; 3]) -> String {
    let entry = |name: &str, title: &str, d: f64| {
        format!(
            "(styles: [(path: \"assets/styles/{name}\")], title: \"{title}\", artist: \"Studio\", year: \"2026\", duration_s: {d})"
        )
    };
    format!(
        "(\n  name: \"test\",\n  entries: [\n    {},\n    {},\n    {},\n  ],\n)\n",
        entry("swirling_night.png", "Night", durations[0]),
        entry("ink_waves.png", "Waves", durations[1]),
        entry("ember_field.png", "Embers", durations[2])
    )
}

struct Harness {
    app: App,
    commands: Receiver<Command>,
    _events: crossbeam_channel::Sender<gallery_painter::painting::Event>,
    _dir: tempfile::TempDir,
    scene_path: std::path::PathBuf,
}

impl Harness {
    fn new(ignore_close: bool) -> Harness {
        Harness::with_scene(ignore_close, scene_text([2.0, 2.0, 2.0]))
    }

    fn with_scene(ignore_close: bool, text: String) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let scene_path = dir.path().join("scene.ron");
        std::fs::write(&scene_path, text).unwrap();
        let root = common::root();
        let scene = Scene::load(&scene_path, &root, &StyleParams::default()).unwrap();
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin))
            .add_message::<WindowCloseRequested>()
            .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(STEP)))
            .insert_resource(Pipeline::from_channels(cmd_tx, ev_rx))
            .insert_resource(Playlist::new(scene, scene_path.clone(), root, StyleParams::default(), 5.0))
            .insert_resource(SceneWatch::new(&scene_path, 0.0))
            .insert_resource(KioskSettings {
                exit_chord: vec![KeyCode::ControlLeft, KeyCode::AltLeft, KeyCode::KeyQ],
                hud_key: KeyCode::F12,
                ignore_close_requests: ignore_close,
            })
            .insert_resource(Engagement { last_input: 0.0, attract_after_s: 1000.0, show_hint: false })
            .init_state::<Picker>()
            .add_systems(Update, app::picker::pick.in_set(AppSystems::Input));
        app::logic_plugins(&mut app);
        Harness { app, commands: cmd_rx, _events: ev_tx, _dir: dir, scene_path }
    }

    /// Advances `seconds` of app time and returns the titles of the styles selected meanwhile.
    fn run(&mut self, seconds: f64) -> Vec<String> {
        let frames = (seconds / STEP).round() as usize;
        let mut picked = Vec::new();
        for _ in 0..frames {
            self.app.update();
            let playlist = self.app.world().resource::<Playlist>();
            for c in self.commands.try_iter() {
                if let Command::SelectStyle(s) = c {
                    // Selections name the artwork by its id; the test reads titles.
                    let index = playlist.index_of(&s.key).expect("an artwork of the scene");
                    picked.push(playlist.scene.entries[index].title.clone());
                }
            }
        }
        picked
    }

    fn playlist(&self) -> &Playlist {
        self.app.world().resource::<Playlist>()
    }

    fn key(&mut self, key: KeyCode, state: ButtonState) {
        self.app.world_mut().write_message(KeyboardInput {
            key_code: key,
            logical_key: Key::Unidentified(bevy::input::keyboard::NativeKey::Unidentified),
            state,
            text: None,
            repeat: false,
            window: Entity::PLACEHOLDER,
        });
    }
}

#[test]
fn rotation_follows_the_scene_durations() {
    let mut h = Harness::new(true);
    assert_eq!(h.run(0.5), vec!["Night"]);
    assert_eq!(h.run(2.0), vec!["Waves"]);
    assert_eq!(h.run(2.0), vec!["Embers"]);
    assert_eq!(h.run(2.0), vec!["Night"], "wraps around");
}

#[test]
fn a_tap_selects_at_once_pauses_rotation_and_idle_resumes_it() {
    let mut h = Harness::new(true);
    h.run(0.5);
    h.app.world_mut().spawn((Thumbnail(2), Interaction::Pressed));
    assert_eq!(h.run(0.2), vec!["Embers"], "the tap takes effect in the next frame");
    assert_eq!(h.playlist().current, 2);
    // Rotation would move on after 2 s, but the visitor's pick holds for the 5 s idle timeout.
    assert_eq!(h.run(4.0), Vec::<String>::new());
    assert_eq!(h.playlist().current, 2);
    // After the idle timeout the rotation resumes, giving the pick a full turn first.
    assert_eq!(h.run(1.5), Vec::<String>::new());
    assert!(h.playlist().visitor_hold_until.is_none(), "rotation resumed");
    assert_eq!(h.run(2.0), vec!["Night"]);
}

#[test]
fn hot_reload_accepts_a_good_edit_and_rejects_a_bad_one() {
    let mut h = Harness::new(true);
    h.run(0.3);
    // A good edit: new title of the artwork on show, applied at once.
    std::thread::sleep(Duration::from_millis(20));
    let edited = scene_text([2.0, 2.0, 2.0]).replace("\"Night\"", "\"Starry\"");
    std::fs::write(&h.scene_path, edited).unwrap();
    bump_mtime(&h.scene_path);
    let picked = h.run(0.3);
    assert_eq!(h.playlist().scene.entries[0].title, "Starry");
    assert_eq!(picked, vec!["Starry"]);
    assert!(h.app.world().resource::<SceneProblem>().0.is_none());
    // A bad edit: the running scene stays, the problem says where.
    std::fs::write(&h.scene_path, "(\n  name: \"test\",\n  entries: [\n    (styles: [], titel: \"x\"),\n  ],\n)\n")
        .unwrap();
    bump_mtime(&h.scene_path);
    h.run(0.3);
    let problem = h.app.world().resource::<SceneProblem>().0.clone().expect("rejected");
    assert!(problem.contains("scene.ron:4:") && problem.contains("titel") && problem.contains("fix:"), "{problem}");
    assert_eq!(h.playlist().scene.entries.len(), 3);
    assert_eq!(h.playlist().scene.entries[0].title, "Starry");
}

fn bump_mtime(path: &Path) {
    // Filesystems with coarse timestamps: make sure the change is visible.
    let t = std::time::SystemTime::now() + Duration::from_secs(2);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(t).unwrap();
}

#[test]
fn the_admin_chord_exits_and_nothing_less_does() {
    let mut h = Harness::new(true);
    h.run(0.2);
    h.key(KeyCode::ControlLeft, ButtonState::Pressed);
    h.key(KeyCode::KeyQ, ButtonState::Pressed);
    h.run(0.2);
    assert!(h.app.should_exit().is_none(), "two of three keys must not quit");
    h.key(KeyCode::AltLeft, ButtonState::Pressed);
    h.app.update();
    assert_eq!(h.app.should_exit(), Some(AppExit::Success));

    // A chord pressed and released within one frame (as remote tools type it) counts too.
    let mut fast = Harness::new(true);
    fast.run(0.2);
    for k in [KeyCode::ControlLeft, KeyCode::AltLeft, KeyCode::KeyQ] {
        fast.key(k, ButtonState::Pressed);
    }
    for k in [KeyCode::KeyQ, KeyCode::AltLeft, KeyCode::ControlLeft] {
        fast.key(k, ButtonState::Released);
    }
    fast.app.update();
    assert_eq!(fast.app.should_exit(), Some(AppExit::Success));
}

#[test]
fn window_close_requests_are_ignored_in_exhibition_mode() {
    let mut h = Harness::new(true);
    h.run(0.2);
    h.app.world_mut().write_message(WindowCloseRequested { window: Entity::PLACEHOLDER });
    h.run(0.2);
    assert!(h.app.should_exit().is_none());

    let mut dev = Harness::new(false);
    dev.run(0.2);
    dev.app.world_mut().write_message(WindowCloseRequested { window: Entity::PLACEHOLDER });
    dev.app.update();
    assert_eq!(dev.app.should_exit(), Some(AppExit::Success));
}

#[test]
fn outside_opening_hours_the_engine_rests() {
    let closed_every_day = scene_text([2.0, 2.0, 2.0]).replacen(
        "name: \"test\",",
        "name: \"test\",\n  hours: (open: \"00:00\", close: \"23:59\", closed_on: [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"]),",
        1,
    );
    let mut h = Harness::with_scene(true, closed_every_day);
    let mut paused = false;
    for _ in 0..5 {
        h.app.update();
        paused |= h.commands.try_iter().any(|c| matches!(c, Command::Pause));
    }
    assert!(paused, "no Pause sent to the worker");
    assert_eq!(*h.app.world().resource::<State<app::Opening>>().get(), app::Opening::Closed);
    // Closed: no rotation either.
    let current = h.playlist().current;
    h.run(5.0);
    assert_eq!(h.playlist().current, current);
}

/// A finished (or not) painting of frame `seq`, as the worker publishes it.
fn painting(seq: u64, finished: bool) -> gallery_painter::painting::Snapshot {
    gallery_painter::painting::Snapshot {
        image: std::sync::Arc::new(image::RgbImage::from_pixel(8, 6, image::Rgb([200, 100, 50]))),
        iteration: 10,
        total_iterations: 10,
        level: 0,
        losses: Default::default(),
        iterations_per_second: 1.0,
        frame_seq: seq,
        style_key: "Ink Waves".into(),
        finished,
        latency: None,
        levels: 1,
        making_of: Vec::new(),
    }
}

/// The app with keepsakes on, saving into a fresh folder and running `command`.
fn with_keepsakes(command: Vec<String>, timeout: Duration) -> (Harness, tempfile::TempDir) {
    use gallery_painter::app::keepsake;
    let mut h = Harness::new(true);
    let folder = tempfile::tempdir().unwrap();
    h.app.insert_resource(keepsake::KeepsakeSettings {
        folder: folder.path().to_path_buf(),
        command,
        command_timeout: timeout,
    });
    keepsake::plugin(&mut h.app);
    (h, folder)
}

#[test]
fn a_finished_painting_is_kept_when_keepsakes_are_on() {
    use gallery_painter::app::PaintingUpdated;
    let (mut h, folder) = with_keepsakes(Vec::new(), Duration::from_secs(10));
    h.app.world_mut().write_message(PaintingUpdated(painting(1, false)));
    h.app.update();
    h.app.world_mut().write_message(PaintingUpdated(painting(1, true)));
    h.app.world_mut().write_message(PaintingUpdated(painting(1, true))); // the same painting only once
    h.app.update();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    let files = loop {
        let files: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        if !files.is_empty() || std::time::Instant::now() > end {
            break files;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    let files_after: Vec<_> = std::fs::read_dir(folder.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files_after.len(), 1);
    assert!(files[0].ends_with("-f1-1-ink-waves.png"), "{}", files[0]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(folder.path().join(&files[0])).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "a visitor's portrait is readable by the kiosk user only");
    assert_eq!(image::open(folder.path().join(&files[0])).unwrap().to_rgb8().dimensions(), (8, 6));
}

#[test]
fn a_keepsake_command_gets_the_saved_file_and_its_failure_is_reported_with_the_file_kept() {
    use gallery_painter::app::keepsake::run_command;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("painting.png");
    image::RgbImage::from_pixel(4, 3, image::Rgb([1, 2, 3])).save(&file).unwrap();
    // A "printer" that copies what it is given.
    let printed = dir.path().join("printed.png");
    let cmd = vec!["cp".to_string(), "{file}".to_string(), printed.display().to_string()];
    let timeout = Duration::from_secs(10);
    run_command(&cmd, &file, timeout).unwrap();
    assert_eq!(std::fs::read(&printed).unwrap(), std::fs::read(&file).unwrap());
    // A printer that fails: the error names the command and says where the painting is.
    let failing = vec!["sh".to_string(), "-c".to_string(), "echo 'printer out of paper' >&2; exit 3".to_string()];
    let err = run_command(&failing, &file, timeout).unwrap_err();
    assert!(err.contains("`sh` failed") && err.contains("out of paper"), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(file.is_file(), "the saved painting stays");
    let missing = vec!["no-such-printer-command".to_string(), "{file}".to_string()];
    assert!(run_command(&missing, &file, timeout).unwrap_err().contains("could not start"));
}

#[test]
fn a_hanging_keepsake_command_is_stopped_with_what_it_started() {
    use gallery_painter::app::keepsake::run_command;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("painting.png");
    let pid_file = dir.path().join("pid");
    // A "printer" that starts a child and waits on it for a minute.
    let hang = format!("sleep 60 & echo $! > {}; wait", pid_file.display());
    let cmd = vec!["sh".to_string(), "-c".to_string(), hang];
    // The timeout leaves a loaded CI machine (every test binary at once on 2 cores) time to
    // start the shell and its child; 700 ms was not always enough there.
    let started = std::time::Instant::now();
    let err = run_command(&cmd, &file, Duration::from_secs(3)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(err.contains("did not finish") && err.contains("was stopped"), "{err}");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("the shell did not write the child's pid in 3 s ({e})"))
        .trim()
        .to_string();
    // The grandchild is gone too (killed with its group; reaped by init or a zombie at most).
    let end = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
        if state.is_none() || state == Some('Z') {
            break;
        }
        assert!(std::time::Instant::now() < end, "sleep {pid} still runs: {stat}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn keepsakes_go_one_at_a_time_through_a_bounded_queue_that_says_when_it_is_full() {
    use gallery_painter::app::{PaintingUpdated, keepsake};
    // A printer that hangs.
    let (mut h, folder) = with_keepsakes(vec!["sleep".into(), "30".into()], Duration::from_secs(3));
    for seq in 1..=12 {
        h.app.world_mut().write_message(PaintingUpdated(painting(seq, true)));
        h.app.update();
    }
    // One painting at a time: while the first command hangs, only its file exists (a thread
    // per painting would have saved all twelve by now).
    let saved = || std::fs::read_dir(folder.path()).unwrap().count();
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while saved() == 0 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(saved(), 1, "one keepsake thread, working through a queue");
    let problem = h.app.world().resource::<keepsake::KeepsakeProblem>().0.lock().unwrap().clone();
    assert!(problem.is_some_and(|p| p.contains("keepsake skipped")), "the overlay says paintings were skipped");
}

#[test]
fn the_saved_state_follows_a_scene_edit_so_a_restart_keeps_position_and_totals() {
    use gallery_painter::app::saved_state;
    use gallery_painter::service::state::{self, SavedState};
    let mut h = Harness::new(true);
    let state_path = h.scene_path.with_file_name("state.ron");
    let titles: Vec<String> = h.playlist().scene.entries.iter().map(|e| e.title.clone()).collect();
    let fp = state::scene_fingerprint(&h.scene_path.display().to_string(), &titles);
    let earlier = SavedState {
        version: state::VERSION,
        scene_fingerprint: fp,
        artwork_index: 1,
        artwork_elapsed_s: 0.5,
        pick_remaining_s: None,
        visitors: 17,
        paintings_finished: 30,
        saved_unix_s: 1.0,
    };
    state::save(&state_path, &earlier).unwrap();
    let store = {
        let mut playlist = h.app.world_mut().resource_mut::<Playlist>();
        saved_state::restore(state_path.clone(), &mut playlist)
    };
    h.app.insert_resource(store);
    saved_state::plugin(&mut h.app);
    h.run(0.3);
    assert_eq!(h.playlist().current, 1, "restored");
    // A curator renames an artwork: hot reload.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&h.scene_path, scene_text([2.0, 2.0, 2.0]).replace("\"Night\"", "\"Starry\"")).unwrap();
    bump_mtime(&h.scene_path);
    h.run(0.3);
    assert_eq!(h.playlist().scene.entries[0].title, "Starry");
    // A restart now reads the state against the edited scene: all of it is still there.
    let titles: Vec<String> = h.playlist().scene.entries.iter().map(|e| e.title.clone()).collect();
    let edited = state::scene_fingerprint(&h.scene_path.display().to_string(), &titles);
    let restored = state::load(&state_path, edited, 3).unwrap().expect("a state");
    assert!(restored.same_scene, "the state was saved with the edited scene's fingerprint");
    assert_eq!(restored.state.artwork_index, 1);
    assert_eq!((restored.state.visitors, restored.state.paintings_finished), (17, 30));
}

#[test]
fn a_status_file_that_cannot_be_written_is_reported_and_recovers_without_leftovers() {
    use gallery_painter::app::status_file::{StatusFile, StatusFileProblem, plugin};
    let mut h = Harness::new(true);
    let dir = tempfile::tempdir().unwrap();
    // A file where the folder should be: no write can succeed there, not even as root.
    let blocker = dir.path().join("run");
    std::fs::write(&blocker, "not a folder").unwrap();
    let path = blocker.join("status.ron");
    h.app.insert_resource(StatusFile(path.clone()));
    plugin(&mut h.app);
    h.run(1.0);
    let problem = h.app.world().resource::<StatusFileProblem>().0.clone();
    assert!(problem.is_some_and(|p| p.contains("run")), "the failure is kept for the overlay");
    // The folder appears (the runtime directory was mounted late): written, problem gone.
    std::fs::remove_file(&blocker).unwrap();
    std::fs::create_dir(&blocker).unwrap();
    h.run(1.0);
    assert!(h.app.world().resource::<StatusFileProblem>().0.is_none());
    let report = std::fs::read_to_string(&path).unwrap();
    assert!(report.contains("health"), "{report}");
    let names: Vec<_> = std::fs::read_dir(&blocker).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("status.ron")], "no temporary file is left behind");
}

#[test]
fn console_buttons_move_pause_and_resume_the_rotation_and_restart_the_painter() {
    use gallery_painter::console::{Board, StaffCommand};
    let mut h = Harness::new(true);
    let health = std::sync::Arc::new(std::sync::Mutex::new(gallery_painter::service::health::Health::new(
        std::time::Instant::now(),
    )));
    let (board, commands) = Board::new(health);
    let state = tempfile::tempdir().unwrap();
    h.app.insert_resource(app::console::ConsoleDesk {
        board: board.clone(),
        commands,
        state_dir: state.path().to_path_buf(),
    });
    assert_eq!(h.run(0.5), vec!["Night"]);
    assert!(board.send(StaffCommand::NextArtwork));
    assert_eq!(h.run(0.2), vec!["Waves"], "at once");
    assert!(board.send(StaffCommand::PreviousArtwork));
    assert!(board.send(StaffCommand::PreviousArtwork));
    assert_eq!(h.run(0.2), vec!["Night", "Embers"], "back past the first to the last");
    assert!(board.send(StaffCommand::PauseRotation));
    assert_eq!(h.run(5.0), Vec::<String>::new(), "paused: the 2 s turn is long over");
    assert!(board.now_view().rotation_paused);
    assert!(board.send(StaffCommand::ResumeRotation));
    assert_eq!(h.run(1.5), Vec::<String>::new(), "a full turn from the resume");
    assert_eq!(h.run(1.0), vec!["Night"]);
    assert!(!board.now_view().rotation_paused);
    assert!(board.send(StaffCommand::RestartPainter));
    h.app.update();
    assert!(h.commands.try_iter().any(|c| matches!(c, Command::Restart)));
}

#[test]
fn visitors_paintings_and_picks_are_counted_against_the_artwork_on_show_and_kept_on_disk() {
    use gallery_painter::console::Board;
    use gallery_painter::console::stats::Stats;
    let mut h = Harness::new(true);
    let health = std::sync::Arc::new(std::sync::Mutex::new(gallery_painter::service::health::Health::new(
        std::time::Instant::now(),
    )));
    // Totals restored from a saved state are not counted again.
    health.lock().unwrap().visitors = 40;
    let (board, commands) = Board::new(health.clone());
    let state = tempfile::tempdir().unwrap();
    h.app.insert_resource(app::console::ConsoleDesk {
        board: board.clone(),
        commands,
        state_dir: state.path().to_path_buf(),
    });
    h.run(0.5);
    assert!(board.stats().counts.is_empty());
    {
        let mut hb = health.lock().unwrap();
        hb.visitors = 42;
        hb.paintings_finished = 1;
    }
    h.run(0.2);
    h.app.world_mut().spawn((Thumbnail(2), Interaction::Pressed));
    h.run(0.2);
    let by_artwork = board.stats().by_artwork();
    let night = by_artwork.iter().find(|(a, _)| a == "Night").unwrap().1;
    assert_eq!((night.visitors, night.paintings, night.picks), (2, 1, 0));
    let embers = by_artwork.iter().find(|(a, _)| a == "Embers").unwrap().1;
    assert_eq!(embers.picks, 1);
    // Written at the first change; the rest within a minute.
    let on_disk = Stats::load(state.path());
    assert_eq!(on_disk.by_artwork().iter().find(|(a, _)| a == "Night").unwrap().1.visitors, 2);
}

#[test]
fn two_artworks_of_one_title_are_told_apart_by_their_ids() {
    // Titles are the curator's words and nothing keeps them unique: a painting is matched to
    // its artwork by id, so one in the other "Night" is never taken for this one's.
    let entry = |name: &str| format!("(styles: [(path: \"assets/styles/{name}\")], title: \"Night\", duration_s: 2.0)");
    let text = format!(
        "(name: \"twins\", entries: [{}, {}, {}])",
        entry("swirling_night.png"),
        entry("ink_waves.png"),
        entry("swirling_night.png")
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twins.ron");
    std::fs::write(&path, text).unwrap();
    let scene = Scene::load(&path, &common::root(), &StyleParams::default()).unwrap();
    let playlist = Playlist::new(scene, path, common::root(), StyleParams::default(), 5.0);
    let keys: Vec<String> = (0..3).map(|i| playlist.selection(i).key).collect();
    assert_ne!(keys[0], keys[1], "other styles, the same title");
    assert_ne!(keys[0], keys[2], "the same title and styles, twice");
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(playlist.index_of(k), Some(i), "{k}");
    }
    // The id does not move with the entry's place: the console's edits name entries by it.
    let mut moved = playlist.scene.clone();
    moved.entries.swap(0, 1);
    assert_eq!(moved.entry_ids()[1], keys[0]);
}
