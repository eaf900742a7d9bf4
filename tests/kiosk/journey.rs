//! The visitor journey's state machine in a headless Bevy app, driven the way the real
//! threads drive it: presence signals and frames through the capture side of the pipeline,
//! snapshots through the worker's event channel, touches as messages. What the journey asks
//! of the worker is read from the command channel.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::input::InputPlugin;
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use bevy::time::TimeUpdateStrategy;
use bevy::window::WindowCloseRequested;
use crossbeam_channel::{Receiver, Sender};
use gallery_painter::app::journey::{VisitorCapture, VisitorPresence};
use gallery_painter::app::{
    self, Engagement, Journey, JourneyRequest, JourneySettings, KioskSettings, LatestPainting, PaintingGate, Picker,
    Pipeline, Playlist,
};
use gallery_painter::capture::presence::PresenceEvent;
use gallery_painter::capture::{CaptureState, CaptureStatus, Frame, PresenceSignal};
use gallery_painter::config::{CaptureTrigger, JourneyConfig};
use gallery_painter::engine::StyleParams;
use gallery_painter::painting::{Command, Event, Snapshot};
use gallery_painter::scene::Scene;
use image::RgbImage;

const STEP: f64 = 0.1;

pub(crate) struct Harness {
    pub(crate) app: App,
    commands: Receiver<Command>,
    events: Sender<Event>,
    presence: Sender<PresenceSignal>,
    capture: Arc<Mutex<CaptureStatus>>,
    /// Everything the app asked of the worker so far.
    sent: Vec<Command>,
    /// Real time each frame also takes (for threads the app waits on, e.g. the voice's).
    pub(crate) pace: Duration,
    _dir: tempfile::TempDir,
}

fn scene_text() -> String {
    let entry = |name: &str, title: &str| {
        format!(
            "(styles: [(path: \"assets/styles/{name}\")], title: \"{title}\", artist: \"Studio\", year: \"2026\", duration_s: 2.0)"
        )
    };
    format!(
        "(\n  name: \"test\",\n  entries: [\n    {},\n    {},\n    {},\n  ],\n)\n",
        entry("swirling_night.png", "Night"),
        entry("ink_waves.png", "Waves"),
        entry("ember_field.png", "Embers")
    )
}

/// The app's logic (no drawing) around `pipeline`, with presence detection on.
fn journey_app(pipeline: Pipeline, playlist: Playlist, config: JourneyConfig) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin))
        .add_message::<WindowCloseRequested>()
        .insert_resource(pipeline)
        .insert_resource(playlist)
        .insert_resource(KioskSettings {
            exit_chord: vec![KeyCode::ControlLeft, KeyCode::AltLeft, KeyCode::KeyQ],
            hud_key: KeyCode::F12,
            ignore_close_requests: true,
        })
        .insert_resource(Engagement { last_input: 0.0, attract_after_s: 1000.0, show_hint: false })
        .init_state::<Picker>();
    app::logic_plugins(&mut app);
    app::journey::begin(&mut app, JourneySettings::new(config, true, false));
    app
}

impl Harness {
    fn new(capture: CaptureTrigger) -> Harness {
        Harness::with(capture, |_| {})
    }

    /// The journey's harness with more of the app: `more` adds resources and plugins.
    pub(crate) fn with(capture: CaptureTrigger, more: impl FnOnce(&mut App)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let scene_path = dir.path().join("scene.ron");
        std::fs::write(&scene_path, scene_text()).unwrap();
        let root = common::root();
        let scene = Scene::load(&scene_path, &root, &StyleParams::default()).unwrap();
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
        let (pr_tx, pr_rx) = crossbeam_channel::unbounded();
        let status = Arc::new(Mutex::new(CaptureStatus {
            state: CaptureState::Running,
            source: "test".into(),
            frames: 0,
            dropped: 0,
            fps: 15.0,
            reconnects: 0,
            latest: None,
            presence: None,
            presence_cost_us: 0.0,
            faces: Vec::new(),
            face_cost_us: 0.0,
            bad_frames: 0,
            last_frame_at: None,
        }));
        let config = JourneyConfig {
            capture,
            countdown_s: 3.0,
            leave_grace_s: 2.0,
            reveal_s: 20.0,
            painting_timeout_s: 60.0,
            ..JourneyConfig::default()
        };
        let pipeline = Pipeline::from_channels(cmd_tx, ev_rx).with_capture(status.clone(), pr_rx);
        let mut app =
            journey_app(pipeline, Playlist::new(scene, scene_path, root, StyleParams::default(), 5.0), config);
        app.insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_secs_f64(STEP)));
        more(&mut app);
        let mut h = Harness {
            app,
            commands: cmd_rx,
            events: ev_tx,
            presence: pr_tx,
            capture: status,
            sent: Vec::new(),
            pace: Duration::ZERO,
            _dir: dir,
        };
        h.run(0.3);
        h
    }

    pub(crate) fn run(&mut self, seconds: f64) {
        for _ in 0..(seconds / STEP).round() as usize {
            std::thread::sleep(self.pace);
            self.app.update();
            self.sent.extend(self.commands.try_iter());
        }
    }

    pub(crate) fn journey(&self) -> Journey {
        *self.app.world().resource::<State<Journey>>().get()
    }

    pub(crate) fn signal(&mut self, event: PresenceEvent) {
        self.presence.send(PresenceSignal { event, at: Instant::now() }).unwrap();
    }

    /// The camera's newest frame (what a capture freezes).
    pub(crate) fn camera_frame(&mut self, seq: u64) {
        let image = Arc::new(RgbImage::from_pixel(32, 24, image::Rgb([(seq * 10) as u8, 90, 160])));
        self.capture.lock().unwrap().latest =
            Some(Frame { image, seq, captured_at: Instant::now(), faces: Vec::new() });
    }

    /// The artwork id of the scene's entry titled `title` (what the worker keys its paintings by).
    pub(crate) fn artwork_id(&self, title: &str) -> String {
        let playlist = self.app.world().resource::<Playlist>();
        let index = playlist.scene.entries.iter().position(|e| e.title == title).expect("an entry of the scene");
        playlist.id(index)
    }

    /// A snapshot of frame `frame_seq` in the artwork titled `style`, as the worker sends it.
    pub(crate) fn snapshot(&mut self, frame_seq: u64, style: &str, iteration: u32, finished: bool) {
        let style_key = self.artwork_id(style);
        let image = Arc::new(RgbImage::from_pixel(32, 24, image::Rgb([200, iteration as u8, 50])));
        self.events
            .send(Event::Snapshot(Snapshot {
                image,
                iteration,
                total_iterations: 10,
                level: 0,
                losses: Default::default(),
                iterations_per_second: 5.0,
                frame_seq,
                style_key,
                finished,
                latency: None,
                levels: 1,
                making_of: Vec::new(),
            }))
            .unwrap();
    }

    /// A finger on the screen (anywhere): pressed this frame, lifted the next.
    fn request_touch(&mut self) {
        use bevy::input::ButtonState;
        use bevy::input::mouse::MouseButtonInput;
        for state in [ButtonState::Pressed, ButtonState::Released] {
            self.app.world_mut().write_message(MouseButtonInput {
                button: MouseButton::Left,
                state,
                window: Entity::PLACEHOLDER,
            });
            self.run(STEP);
        }
    }

    pub(crate) fn request(&mut self, r: JourneyRequest) {
        self.app.world_mut().write_message(r);
    }

    fn painted_frames(&self) -> Vec<u64> {
        self.sent.iter().filter_map(|c| if let Command::PaintFrame(f) = c { Some(f.seq) } else { None }).collect()
    }

    /// The titles of the artworks selected so far (selections name them by artwork id).
    fn selected(&self) -> Vec<String> {
        let playlist = self.app.world().resource::<Playlist>();
        let title =
            |id: &str| playlist.scene.entries[playlist.index_of(id).expect("an artwork of the scene")].title.clone();
        self.sent
            .iter()
            .filter_map(|c| if let Command::SelectStyle(s) = c { Some(title(&s.key)) } else { None })
            .collect()
    }

    fn forgets(&self) -> usize {
        self.sent.iter().filter(|c| matches!(c, Command::Forget)).count()
    }

    /// Enter, hold still, count down: returns in Painting with frame `seq` captured.
    pub(crate) fn through_to_painting(&mut self, seq: u64) {
        self.camera_frame(seq);
        self.signal(PresenceEvent::Entered);
        self.run(0.2);
        assert_eq!(self.journey(), Journey::Noticed);
        self.signal(PresenceEvent::Still);
        self.run(0.2);
        assert_eq!(self.journey(), Journey::Countdown);
        self.run(3.3);
        assert_eq!(self.journey(), Journey::Painting);
    }
}

#[test]
fn a_visitor_is_noticed_counted_down_captured_painted_revealed_and_forgotten() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    assert_eq!(h.journey(), Journey::Attract);
    let forgets_at_start = h.forgets();
    h.camera_frame(41);
    h.signal(PresenceEvent::Entered);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Noticed);
    assert!(h.app.world().resource::<Playlist>().held_by_journey, "the artwork must not rotate away");

    h.signal(PresenceEvent::Still);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Countdown);
    // The countdown lasts its 3 s: still counting at 2.5 s, and nothing captured yet.
    h.run(2.5);
    assert_eq!(h.journey(), Journey::Countdown);
    assert!(h.painted_frames().is_empty());
    // A newer camera frame arrives just before zero: that one is frozen.
    h.camera_frame(42);
    h.run(0.6);
    assert_eq!(h.journey(), Journey::Painting);
    assert_eq!(h.painted_frames(), vec![42], "exactly the frozen frame is painted, once");
    assert_eq!(*h.app.world().resource::<PaintingGate>(), PaintingGate::Frame(42));
    assert_eq!(h.app.world().resource::<VisitorCapture>().frame.seq, 42);

    // The painting evolves; only its finished snapshot reveals it.
    h.snapshot(42, "Night", 3, false);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Painting);
    h.snapshot(42, "Night", 10, true);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Reveal);

    // The visitor walks away: after the grace period everything of them is dropped.
    h.signal(PresenceEvent::Left);
    h.run(1.5);
    assert_eq!(h.journey(), Journey::Reveal, "a short absence is forgiven");
    h.run(0.8);
    assert_eq!(h.journey(), Journey::Attract);
    assert_eq!(h.forgets(), forgets_at_start + 1, "the worker was told to forget the photo");
    assert!(h.app.world().get_resource::<VisitorCapture>().is_none(), "the frozen frame is dropped");
    assert_eq!(*h.app.world().resource::<PaintingGate>(), PaintingGate::Nothing);
    assert!(!h.app.world().resource::<Playlist>().held_by_journey);
}

#[test]
fn in_touch_mode_holding_still_is_not_enough_a_touch_starts_the_countdown() {
    let mut h = Harness::new(CaptureTrigger::Touch);
    h.camera_frame(7);
    h.signal(PresenceEvent::Entered);
    h.run(0.2);
    h.signal(PresenceEvent::Still);
    h.run(3.0);
    assert_eq!(h.journey(), Journey::Noticed, "touch mode must not start by itself");
    h.request(JourneyRequest::PaintMe);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Countdown);
    h.run(3.3);
    assert_eq!(h.painted_frames(), vec![7]);
}

#[test]
fn paint_me_again_repaints_the_same_capture_in_the_next_artwork_without_a_countdown() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.through_to_painting(5);
    h.snapshot(5, "Night", 2, false);
    h.snapshot(5, "Night", 10, true);
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Reveal);
    let before = h.selected().len();

    h.request(JourneyRequest::PaintAgain);
    h.run(0.3);
    assert_eq!(h.selected()[before..], ["Waves".to_string()], "the next artwork");
    assert_eq!(h.journey(), Journey::Painting, "straight back to painting, no countdown");
    assert_eq!(h.painted_frames(), vec![5], "no new capture: the worker repaints what it has");
    assert_eq!(h.app.world().resource::<VisitorCapture>().frame.seq, 5);
    // A late finished snapshot of the old artwork must not end the new painting.
    h.snapshot(5, "Night", 10, true);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Painting);
    h.snapshot(5, "Waves", 1, false);
    h.snapshot(5, "Waves", 10, true);
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Reveal);
}

#[test]
fn a_visitor_who_leaves_during_the_countdown_cancels_it_cleanly() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.camera_frame(3);
    h.signal(PresenceEvent::Entered);
    h.run(0.2);
    h.signal(PresenceEvent::Still);
    h.run(1.0);
    assert_eq!(h.journey(), Journey::Countdown);
    h.signal(PresenceEvent::Left);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Attract, "cancelled at once");
    h.run(4.0);
    assert!(h.painted_frames().is_empty(), "nothing was captured");
    assert!(h.app.world().get_resource::<VisitorCapture>().is_none());
    // The next visitor gets the whole journey.
    h.through_to_painting(9);
    assert_eq!(h.painted_frames(), vec![9]);
}

#[test]
fn the_rotation_waits_for_the_visitor_and_resumes_after_they_leave() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    // Scene entries last 2 s; the first was selected at start.
    let first = h.selected();
    assert_eq!(first, vec!["Night".to_string()]);
    h.through_to_painting(11);
    h.run(6.0);
    assert_eq!(h.selected(), first, "no artwork change while a visitor is being painted");
    h.signal(PresenceEvent::Left);
    h.run(2.5);
    assert_eq!(h.journey(), Journey::Attract);
    // Resumes: the artwork on show gets a full turn (2 s), then the next one.
    h.run(1.5);
    assert_eq!(h.selected().len(), 1);
    h.run(1.0);
    assert_eq!(h.selected(), vec!["Night".to_string(), "Waves".to_string()]);
}

#[test]
fn snapshots_of_anyone_but_the_current_visitor_never_reach_the_screen() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    // In attract nothing is shown, even a late snapshot of an earlier visitor.
    h.snapshot(2, "Night", 9, true);
    h.run(0.2);
    assert!(h.app.world().resource::<LatestPainting>().0.is_none());
    h.through_to_painting(12);
    h.snapshot(2, "Night", 9, false);
    h.run(0.2);
    assert!(h.app.world().resource::<LatestPainting>().0.is_none());
    h.snapshot(12, "Night", 1, false);
    h.run(0.2);
    assert_eq!(h.app.world().resource::<LatestPainting>().0.as_ref().map(|s| s.frame_seq), Some(12));
}

#[test]
fn after_a_reveal_times_out_a_visitor_who_stays_is_not_painted_again_unasked() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.through_to_painting(4);
    h.snapshot(4, "Night", 1, false);
    h.snapshot(4, "Night", 10, true);
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Reveal);
    h.run(20.5);
    assert_eq!(h.journey(), Journey::Attract, "reveal_s is over");
    // Still standing there and still: no new countdown by itself...
    h.signal(PresenceEvent::Still);
    h.run(2.0);
    assert_eq!(h.journey(), Journey::Attract);
    assert!(h.app.world().resource::<VisitorPresence>().needs_fresh_entry);
    // ... until they leave and someone comes.
    h.signal(PresenceEvent::Left);
    h.run(0.2);
    h.signal(PresenceEvent::Entered);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Noticed);
}

#[test]
fn the_status_counts_each_visitor_noticed_once() {
    use gallery_painter::app::journey::JourneyTimings;
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.through_to_painting(1);
    h.signal(PresenceEvent::Left);
    h.run(2.5);
    h.signal(PresenceEvent::Entered);
    h.run(0.3);
    assert_eq!(h.app.world().resource::<JourneyTimings>().visitors, 2);
    assert!(h.app.world().resource::<JourneyTimings>().still_to_countdown.is_some());
}

#[test]
fn an_artwork_the_worker_cannot_use_ends_the_visitors_wait_at_once_with_an_apology() {
    use gallery_painter::app::journey::JourneyApology;
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.through_to_painting(9);
    let forgets_before = h.forgets();
    // The worker cannot load the artwork on show (its file broke after the scene was checked).
    h.events
        .send(Event::StyleUnusable { key: h.artwork_id("Night"), reason: "cannot decode: truncated".into() })
        .unwrap();
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Attract, "no visitor waits painting_timeout_s for nothing");
    let now = h.app.world().resource::<Time>().elapsed_secs_f64();
    let apology = h.app.world().resource::<JourneyApology>().current(now);
    assert_eq!(apology, Some("attract-sorry"), "the visitor is told why");
    let texts = gallery_painter::i18n::Catalog::load(&Default::default(), &common::root()).unwrap();
    assert!(texts.text("en", "attract-sorry").contains("could not be made"));
    assert!(texts.text("fr", "attract-sorry").contains("n’a pas pu être peint"));
    assert_eq!(h.forgets(), forgets_before + 1, "the photo is dropped");
}

#[test]
fn a_failure_of_another_artwork_does_not_end_the_painting() {
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.through_to_painting(9);
    h.events.send(Event::StyleUnusable { key: h.artwork_id("Waves"), reason: "cannot decode".into() }).unwrap();
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Painting);
}

#[test]
fn without_a_camera_nobody_is_invited_and_a_touch_only_picks_an_artwork() {
    let mut h = Harness::new(CaptureTrigger::Touch);
    // A kiosk that needs its camera, and the camera is not there.
    h.capture.lock().unwrap().state =
        CaptureState::Missing { reason: "no camera".into(), retry_in: Duration::from_secs(1) };
    h.request_touch();
    h.run(0.5);
    assert_eq!(h.journey(), Journey::Attract, "no countdown for a visitor the kiosk cannot see");
    // The camera comes: the next touch starts a journey.
    h.capture.lock().unwrap().state = CaptureState::Running;
    h.camera_frame(3);
    h.request_touch();
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Noticed);
}

#[test]
fn choosing_a_language_in_attract_is_not_asking_to_be_painted_but_any_other_touch_is() {
    use gallery_painter::app::language::LanguageButton;
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.camera_frame(3);
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Attract);
    // The finger lands on a language button (UI focus sets its Interaction that frame).
    let button = h.app.world_mut().spawn((LanguageButton("fr".into()), Interaction::None)).id();
    *h.app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::Pressed;
    h.request_touch();
    h.run(0.5);
    assert_eq!(h.journey(), Journey::Attract, "the visitor reads the invitation in French first");
    *h.app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::None;
    h.run(0.1);
    h.request_touch();
    h.run(0.3);
    assert_eq!(h.journey(), Journey::Noticed, "a touch anywhere else still means someone is there");
}

/// The journey of the real app's parts: the synthetic camera with a scripted visitor who
/// comes, holds still, looks around and walks out, on a loop (the demo's figure, wearing the
/// demo's face); the capture thread's face detector and presence; the kiosk's own painter.
/// Nothing faked: `until` is asked after every frame (real time), with the states seen.
fn real_journey(
    script: gallery_painter::capture::synthetic::SyntheticVisitor,
    config: JourneyConfig,
    secs: u64,
    mut until: impl FnMut(&App, &[(f64, Journey)], f64) -> bool,
) -> (App, Vec<(f64, Journey)>) {
    use gallery_painter::capture::{CaptureOptions, faces, factory_for, presence::PresenceConfig, spawn_capture};
    use gallery_painter::config::{EngineConfig, SourceConfig};
    use gallery_painter::painting::{Intake, WorkerConfig};
    let dir = tempfile::tempdir().unwrap();
    let scene_path = dir.path().join("scene.ron");
    std::fs::write(&scene_path, scene_text()).unwrap();
    let root = common::root();
    let scene = Scene::load(&scene_path, &root, &StyleParams::default()).unwrap();
    let source = SourceConfig::Synthetic {
        seed: 7,
        fps: 15.0,
        width: 640,
        height: 480,
        visitor: script,
        face: Some(gallery_painter::config::DEMO_FACE.into()),
    };
    let capture = spawn_capture(
        factory_for(&source, &root),
        None,
        CaptureOptions {
            presence: Some(PresenceConfig::default()),
            faces: faces::for_capture(&root, &faces::FaceDetectionConfig::default()),
            ..CaptureOptions::default()
        },
    );
    let style = StyleParams { size: 48, iterations: 8, levels: 1, ..EngineConfig::default().style };
    let engine =
        EngineConfig { weights: common::weights(), threads: 1, style: style.clone(), ..EngineConfig::default() };
    let worker = gallery_painter::workers::start(
        WorkerConfig { intake: Intake::OnCommand, ..WorkerConfig::from_config(&root, &engine, common::cpu()) },
        capture.frames.clone(),
    );
    let mut app =
        journey_app(Pipeline::new(worker, capture), Playlist::new(scene, scene_path, root, style, 5.0), config);
    let started = Instant::now();
    let mut states: Vec<(f64, Journey)> = Vec::new();
    loop {
        app.update();
        let state = *app.world().resource::<State<Journey>>().get();
        if states.last().is_none_or(|(_, s)| *s != state) {
            states.push((started.elapsed().as_secs_f64(), state));
        }
        if until(&app, &states, started.elapsed().as_secs_f64()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(secs), "timed out; the journey went {states:?}");
        std::thread::sleep(Duration::from_millis(15));
    }
    app.world_mut().write_message(AppExit::Success);
    app.update();
    drop(dir);
    (app, states)
}

#[test]
fn two_visitors_in_a_row_are_both_noticed_counted_and_painted_through_the_real_camera_and_presence() {
    use gallery_painter::app::journey::JourneyTimings;
    use gallery_painter::capture::synthetic::SyntheticVisitor;
    // Each visitor stays 20 s (long enough to be painted and to see it) and walks out; the
    // next comes 6 s later. The reveal would last a minute: it must end because they left.
    let script = SyntheticVisitor::Scripted { away_s: 6.0, still_s: 5.0, stay_s: 20.0 };
    let config = JourneyConfig {
        countdown_s: 1.0,
        leave_grace_s: 2.0,
        side_by_side_s: 0.0,
        reveal_s: 60.0,
        painting_timeout_s: 60.0,
        ..JourneyConfig::default()
    };
    let revealed = |app: &App| app.world().resource::<JourneyTimings>().paintings_revealed;
    let (app, states) = real_journey(script, config, 150, |app, _, _| revealed(app) >= 2);
    let timings = app.world().resource::<JourneyTimings>();
    assert_eq!(timings.visitors, 2, "visitors counted; the journey went {states:?}");
    // The first reveal ended because the visitor walked out (at 6 + 1.5 + 20 + 1.5 s, then
    // presence's few seconds), long before its 60 s: a kiosk that does not see people leave
    // would wait for a fresh entry that never comes.
    let reveal = states.iter().position(|(_, s)| *s == Journey::Reveal).unwrap();
    let (revealed_at, (left_at, after)) = (states[reveal].0, states[reveal + 1]);
    assert_eq!(after, Journey::Attract, "{states:?}");
    assert!(
        left_at - revealed_at < 40.0,
        "the first reveal ended by its timer, not by the visitor leaving: {states:?}"
    );
    assert!(left_at < 6.0 + 1.5 + 20.0 + 1.5 + 8.0, "the visitor's leaving was seen late: {states:?}");
    // Painted twice: two frames sent to the painter.
    let noticed = states.iter().filter(|(_, s)| *s == Journey::Noticed).count();
    let painted = states.iter().filter(|(_, s)| *s == Journey::Painting).count();
    assert_eq!((noticed, painted), (2, 2), "{states:?}");
}

#[test]
fn a_visitor_who_walks_out_without_holding_still_starts_no_countdown_and_no_empty_room_is_painted() {
    use gallery_painter::capture::synthetic::SyntheticVisitor;
    // Comes, never holds still (half a second, less than the second stillness takes), looks
    // around for 12 s and walks out: as the room empties, nothing must look like a visitor
    // holding still.
    let script = SyntheticVisitor::Scripted { away_s: 8.0, still_s: 0.5, stay_s: 12.0 };
    let config = JourneyConfig { countdown_s: 1.0, leave_grace_s: 2.0, ..JourneyConfig::default() };
    // Stops 2 s after the journey is back in Attract from the visit (no late countdown).
    let (_, states) = real_journey(script, config, 90, |_, states, now| {
        let noticed = states.iter().any(|(_, s)| *s == Journey::Noticed);
        noticed && states.last().is_some_and(|(at, s)| *s == Journey::Attract && now > at + 2.0)
    });
    assert!(
        !states.iter().any(|(_, s)| matches!(s, Journey::Countdown | Journey::Painting)),
        "a countdown started with nobody holding still: {states:?}"
    );
}

#[test]
fn a_broken_artwork_picked_says_so_keeps_the_label_of_what_is_painted_and_is_offered_no_more() {
    use gallery_painter::app::ArtworkNotice;
    let mut h = Harness::new(CaptureTrigger::Auto);
    h.camera_frame(3);
    h.signal(PresenceEvent::Entered);
    h.run(0.2);
    assert_eq!(h.journey(), Journey::Noticed);
    let before = h.app.world().resource::<Playlist>().current;
    let broken = (before + 1) % 3;
    let broken_title = h.app.world().resource::<Playlist>().scene.entries[broken].title.clone();
    // The visitor touches its thumbnail; the painter cannot use its style image.
    h.app.world_mut().write_message(gallery_painter::app::StyleRequest(broken));
    h.run(0.2);
    assert_eq!(h.app.world().resource::<Playlist>().current, broken);
    h.events
        .send(Event::StyleUnusable {
            key: h.artwork_id(&broken_title),
            reason: "the style image does not decode".into(),
        })
        .unwrap();
    h.run(0.3);
    let playlist = h.app.world().resource::<Playlist>();
    // The label is the artwork the painter still paints in, not the broken one's.
    assert_eq!(playlist.current, before, "the label names an artwork that is not painted");
    assert_eq!(playlist.refused(), [format!("\"{broken_title}\": the style image does not decode")]);
    let notice = h.app.world().resource::<ArtworkNotice>().until;
    assert!(notice > h.app.world().resource::<Time>().elapsed_secs_f64(), "the visitor is not told");
    assert_eq!(h.journey(), Journey::Noticed, "the visit goes on");
    // Neither picked again nor rotated to.
    h.app.world_mut().write_message(gallery_painter::app::StyleRequest(broken));
    h.run(0.2);
    let mut playlist = h.app.world_mut().resource_mut::<Playlist>();
    assert_eq!(playlist.current, before);
    for _ in 0..6 {
        assert_ne!(playlist.advance(), broken, "the rotation came to the broken artwork");
    }
}
