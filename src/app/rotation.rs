//! Scene rotation: plays the scene's artworks on their schedule, lets a visitor's pick pause
//! the rotation until they walk away, reloads the scene file when it changes, and rests the
//! engine outside opening hours.

use std::path::PathBuf;
use std::time::SystemTime;

use bevy::prelude::*;

use super::AppSystems;
use super::pipeline::{SendCommand, StyleUnusable};
use crate::engine::StyleParams;
use crate::painting::{Command, StyleSelection};
use crate::scene::{Order, Scene, SceneEntry};

#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Opening {
    #[default]
    Open,
    /// Outside the scene's opening hours: the engine rests, the screen says so.
    Closed,
}

/// The scene being played and where in it we are.
#[derive(Resource)]
pub struct Playlist {
    pub scene: Scene,
    pub scene_path: PathBuf,
    pub root: PathBuf,
    pub base_params: StyleParams,
    pub current: usize,
    /// Elapsed app seconds when the current entry started.
    pub entry_started: f64,
    /// Rotation is paused by a visitor's pick until this time (extended by interaction).
    pub visitor_hold_until: Option<f64>,
    pub idle_timeout_s: f64,
    /// A visitor is being noticed, painted or shown their painting: the artwork stays.
    pub held_by_journey: bool,
    /// Staff paused the rotation from the console: the artwork stays until they resume.
    pub paused_by_staff: bool,
    /// Entries that cannot be shown (a style image missing or broken), with why: neither
    /// rotated to nor offered to visitors.
    pub unusable: std::collections::BTreeMap<usize, String>,
    /// The entry on show before the current one (the painter keeps its style when the
    /// current one cannot be used).
    previous: usize,
    /// Restored from a saved state: (seconds already on show, pick still holding for),
    /// applied when the rotation starts.
    resume: Option<(f64, Option<f64>)>,
    order: Vec<usize>,
    order_pos: usize,
    rng: u64,
    started: bool,
}

impl Playlist {
    pub fn new(
        scene: Scene,
        scene_path: PathBuf,
        root: PathBuf,
        base_params: StyleParams,
        idle_timeout_s: f64,
    ) -> Playlist {
        let mut p = Playlist {
            scene,
            scene_path,
            root,
            base_params,
            current: 0,
            entry_started: 0.0,
            visitor_hold_until: None,
            idle_timeout_s,
            held_by_journey: false,
            paused_by_staff: false,
            unusable: Default::default(),
            previous: 0,
            resume: None,
            order: Vec::new(),
            order_pos: 0,
            rng: 0x2545_F491_4F6C_DD1D,
            started: false,
        };
        p.reorder();
        p.current = p.order[0];
        p
    }

    pub fn entry(&self) -> &SceneEntry {
        &self.scene.entries[self.current]
    }

    /// Entries refused at start (`Scene::load_playable`): the show starts on a usable one.
    pub fn with_unusable(mut self, refused: impl IntoIterator<Item = (usize, String)>) -> Playlist {
        self.unusable.extend(refused);
        if !self.usable(self.current) {
            self.current = self.advance();
        }
        self
    }

    pub fn usable(&self, index: usize) -> bool {
        index < self.scene.entries.len() && !self.unusable.contains_key(&index)
    }

    /// Why each refused artwork is not shown: "Title: why", for /health and the status screen.
    pub fn refused(&self) -> Vec<String> {
        self.unusable.iter().map(|(i, why)| format!("\"{}\": {why}", self.scene.entries[*i].title)).collect()
    }

    /// The artwork id of entry `index` ([`crate::scene::Scene::entry_ids`]): what its
    /// selection, snapshots and refusals are keyed by.
    pub fn id(&self, index: usize) -> String {
        self.scene.entry_ids().swap_remove(index)
    }

    /// Is `id` the artwork id of the entry on show?
    pub fn is_current(&self, id: &str) -> bool {
        self.index_of(id) == Some(self.current)
    }

    /// The entry whose artwork id is `id`, if the scene has it.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.scene.entry_ids().iter().position(|k| k == id)
    }

    pub fn selection(&self, index: usize) -> StyleSelection {
        let e = &self.scene.entries[index];
        StyleSelection {
            key: self.id(index),
            styles: e.styles.iter().map(|s| (s.path.clone(), s.weight)).collect(),
            params: e.overrides.apply(&self.base_params),
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: shuffling a playlist needs no more.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn reorder(&mut self) {
        let n = self.scene.entries.len();
        self.order = (0..n).collect();
        if self.scene.order == Order::Shuffle && n > 1 {
            for i in (1..n).rev() {
                let j = (self.next_random() % (i as u64 + 1)) as usize;
                self.order.swap(i, j);
            }
            // Never the same artwork twice in a row across rounds.
            if self.order[0] == self.current {
                self.order.swap(0, n - 1);
            }
        }
        self.order_pos = 0;
    }

    /// The journey is over (the visitor left): the rotation goes on from the artwork on show,
    /// which gets a full turn first.
    pub fn release_journey_hold(&mut self, now: f64) {
        if self.held_by_journey || self.visitor_hold_until.is_some() {
            self.held_by_journey = false;
            self.visitor_hold_until = None;
            self.entry_started = now;
        }
    }

    /// Continue where a previous run stopped: `index` on show for `elapsed_s` already, a
    /// visitor's pick holding for `pick_remaining_s` more.
    pub fn restore(&mut self, index: usize, elapsed_s: f64, pick_remaining_s: Option<f64>) {
        if index < self.scene.entries.len() {
            self.current = index;
            self.order_pos = self.order.iter().position(|&i| i == index).unwrap_or(0);
            self.resume = Some((elapsed_s.max(0.0), pick_remaining_s));
        }
    }

    /// The usable entry before the current one in play order (the last one before the first).
    pub fn back(&mut self) -> usize {
        for _ in 0..self.order.len() {
            self.order_pos = self.order_pos.checked_sub(1).unwrap_or(self.order.len() - 1);
            if self.usable(self.order[self.order_pos]) {
                break;
            }
        }
        self.current = self.order[self.order_pos];
        self.current
    }

    /// The usable entry after the current one in play order.
    pub fn advance(&mut self) -> usize {
        for _ in 0..self.order.len() {
            self.order_pos += 1;
            if self.order_pos >= self.order.len() {
                self.reorder();
            }
            if self.usable(self.order[self.order_pos]) {
                break;
            }
        }
        self.current = self.order[self.order_pos];
        self.current
    }
}

/// An artwork turned out unusable while the show ran (the painter could not use its style
/// images): no longer rotated to or offered; visitors read that it cannot be shown.
#[derive(Message, Clone, Debug)]
pub struct ArtworkRefused {
    pub index: usize,
    pub reason: String,
}

/// What visitors read after picking an artwork that cannot be shown, until `until` (app s).
#[derive(Resource, Default, Debug, Clone)]
pub struct ArtworkNotice {
    pub until: f64,
}

/// A visitor picked entry `0` (by touching its thumbnail).
#[derive(Message, Clone, Copy, Debug)]
pub struct StyleRequest(pub usize);

/// The artwork on show changed.
#[derive(Message, Clone, Copy, Debug)]
pub struct ArtworkChanged {
    pub index: usize,
    pub by_visitor: bool,
}

/// The scene file was reloaded (Ok) or rejected (Err, with file:line:col and the fix).
/// Staff change the rotation (from the console).
#[derive(Message, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffRotation {
    Next,
    Previous,
    Pause,
    Resume,
}

#[derive(Message, Clone, Debug)]
pub struct SceneReloaded(pub Result<(), String>);

/// The last rejected scene edit, shown on the admin overlay until a good edit replaces it.
#[derive(Resource, Default)]
pub struct SceneProblem(pub Option<String>);

/// Polls the scene file's modification time (cheap, works on every filesystem).
#[derive(Resource)]
pub struct SceneWatch {
    pub interval_s: f64,
    last_check: f64,
    last_modified: Option<SystemTime>,
}

impl SceneWatch {
    pub fn new(path: &std::path::Path, interval_s: f64) -> SceneWatch {
        SceneWatch { interval_s, last_check: 0.0, last_modified: crate::paths::modified(path) }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_state::<Opening>()
        .add_message::<StyleRequest>()
        .add_message::<ArtworkChanged>()
        .add_message::<SceneReloaded>()
        .add_message::<StaffRotation>()
        .add_message::<ArtworkRefused>()
        .init_resource::<SceneProblem>()
        .init_resource::<ArtworkNotice>()
        // After the journey has seen the refusal (it apologises to a visitor it was painting).
        .add_systems(Update, refuse_unusable.in_set(AppSystems::Send).run_if(resource_exists::<Playlist>))
        .add_systems(
            Update,
            (watch_scene_file, check_opening_hours, handle_visitor_picks, handle_staff, rotate)
                .chain()
                .in_set(AppSystems::Logic)
                .run_if(resource_exists::<Playlist>),
        )
        .add_systems(OnEnter(Opening::Closed), |mut out: MessageWriter<SendCommand>| {
            tracing::info!("outside opening hours: the engine rests");
            out.write(SendCommand(Command::Pause));
        })
        .add_systems(
            OnExit(Opening::Closed),
            |mut out: MessageWriter<SendCommand>, mut playlist: ResMut<Playlist>, time: Res<Time>| {
                tracing::info!("opening hours: painting again");
                playlist.entry_started = time.elapsed_secs_f64();
                out.write(SendCommand(Command::Resume));
            },
        );
}

fn select(
    playlist: &mut Playlist,
    index: usize,
    now: f64,
    by_visitor: bool,
    out: &mut MessageWriter<SendCommand>,
    changed: &mut MessageWriter<ArtworkChanged>,
) {
    if playlist.current != index {
        playlist.previous = playlist.current;
    }
    playlist.current = index;
    playlist.entry_started = now;
    out.write(SendCommand(Command::SelectStyle(playlist.selection(index))));
    changed.write(ArtworkChanged { index, by_visitor });
}

fn handle_visitor_picks(
    time: Res<Time>,
    mut playlist: ResMut<Playlist>,
    mut picks: MessageReader<StyleRequest>,
    mut out: MessageWriter<SendCommand>,
    mut changed: MessageWriter<ArtworkChanged>,
) {
    let now = time.elapsed_secs_f64();
    for &StyleRequest(index) in picks.read() {
        if !playlist.usable(index) {
            continue;
        }
        playlist.visitor_hold_until = Some(now + playlist.idle_timeout_s);
        // The rotation continues from the visitor's choice when it resumes.
        playlist.order_pos = playlist.order.iter().position(|&i| i == index).unwrap_or(0);
        select(&mut playlist, index, now, true, &mut out, &mut changed);
    }
}

fn handle_staff(
    time: Res<Time>,
    mut playlist: ResMut<Playlist>,
    mut staff: MessageReader<StaffRotation>,
    mut out: MessageWriter<SendCommand>,
    mut changed: MessageWriter<ArtworkChanged>,
) {
    let now = time.elapsed_secs_f64();
    for &what in staff.read() {
        match what {
            StaffRotation::Next | StaffRotation::Previous => {
                // Staff override a visitor's pick: the rotation goes on from their choice.
                playlist.visitor_hold_until = None;
                let index = if what == StaffRotation::Next { playlist.advance() } else { playlist.back() };
                select(&mut playlist, index, now, false, &mut out, &mut changed);
            }
            StaffRotation::Pause => playlist.paused_by_staff = true,
            StaffRotation::Resume => {
                if playlist.paused_by_staff {
                    playlist.paused_by_staff = false;
                    // The artwork on show gets a full turn from now.
                    playlist.entry_started = now;
                }
            }
        }
    }
}

fn rotate(
    time: Res<Time>,
    state: Res<State<Opening>>,
    mut playlist: ResMut<Playlist>,
    mut out: MessageWriter<SendCommand>,
    mut changed: MessageWriter<ArtworkChanged>,
) {
    let now = time.elapsed_secs_f64();
    if !playlist.started {
        playlist.started = true;
        let first = playlist.current;
        select(&mut playlist, first, now, false, &mut out, &mut changed);
        if let Some((elapsed, pick)) = playlist.resume.take() {
            playlist.entry_started = now - elapsed;
            playlist.visitor_hold_until = pick.map(|r| now + r);
        }
        return;
    }
    if *state.get() == Opening::Closed || playlist.held_by_journey || playlist.paused_by_staff {
        return;
    }
    if let Some(until) = playlist.visitor_hold_until {
        if now < until {
            return;
        }
        // The visitor left: the rotation resumes, giving the picked artwork a full turn first.
        tracing::info!("no interaction for {:.0} s: rotation resumes", playlist.idle_timeout_s);
        playlist.visitor_hold_until = None;
        playlist.entry_started = now;
        return;
    }
    if now - playlist.entry_started >= playlist.entry().duration_s {
        let next = playlist.advance();
        select(&mut playlist, next, now, false, &mut out, &mut changed);
    }
}

/// The painter could not use an artwork's style images: that artwork is refused from now on.
/// If it was the one on show, the one before comes back (the painter kept its style), so the
/// label always names what is painted; visitors read that the artwork cannot be shown.
#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one input or output
fn refuse_unusable(
    time: Res<Time>,
    mut playlist: ResMut<Playlist>,
    mut unusable: MessageReader<StyleUnusable>,
    mut refused: MessageWriter<ArtworkRefused>,
    mut notice: ResMut<ArtworkNotice>,
    mut out: MessageWriter<SendCommand>,
    mut changed: MessageWriter<ArtworkChanged>,
) {
    let now = time.elapsed_secs_f64();
    for u in unusable.read() {
        let Some(index) = playlist.index_of(&u.key) else { continue };
        if !playlist.usable(index) {
            continue;
        }
        let title = &playlist.scene.entries[index].title;
        tracing::error!("artwork \"{title}\" cannot be shown ({}): it is left out of the show", u.reason);
        playlist.unusable.insert(index, u.reason.clone());
        refused.write(ArtworkRefused { index, reason: u.reason.clone() });
        if playlist.current != index || playlist.unusable.len() >= playlist.scene.entries.len() {
            continue;
        }
        notice.until = now + ARTWORK_NOTICE_S;
        let back = playlist.previous;
        if playlist.usable(back) {
            // The painter still has the style before: no new selection, only the label.
            playlist.current = back;
            playlist.order_pos = playlist.order.iter().position(|&i| i == back).unwrap_or(0);
            changed.write(ArtworkChanged { index: back, by_visitor: false });
        } else {
            let next = playlist.advance();
            select(&mut playlist, next, now, false, &mut out, &mut changed);
        }
    }
}

/// How long visitors read that an artwork cannot be shown.
const ARTWORK_NOTICE_S: f64 = 8.0;

fn check_opening_hours(
    time: Res<Time>,
    mut last: Local<Option<f64>>,
    playlist: Res<Playlist>,
    state: Res<State<Opening>>,
    mut next: ResMut<NextState<Opening>>,
) {
    // The clock is read once a second, not every frame.
    let now = time.elapsed_secs_f64();
    if last.is_some_and(|t| now - t < 1.0) {
        return;
    }
    *last = Some(now);
    let open = playlist.scene.hours.as_ref().is_none_or(|h| h.is_open(chrono::Local::now().naive_local()));
    let want = if open { Opening::Open } else { Opening::Closed };
    if *state.get() != want {
        next.set(want);
    }
}

fn watch_scene_file(
    time: Res<Time>,
    watch: Option<ResMut<SceneWatch>>,
    mut playlist: ResMut<Playlist>,
    mut problem: ResMut<SceneProblem>,
    mut reloaded: MessageWriter<SceneReloaded>,
    mut out: MessageWriter<SendCommand>,
    mut changed: MessageWriter<ArtworkChanged>,
) {
    let Some(mut watch) = watch else { return };
    let now = time.elapsed_secs_f64();
    if now - watch.last_check < watch.interval_s {
        return;
    }
    watch.last_check = now;
    let m = crate::paths::modified(&playlist.scene_path);
    if m == watch.last_modified {
        return;
    }
    watch.last_modified = m;
    match Scene::load(&playlist.scene_path, &playlist.root, &playlist.base_params) {
        Ok(scene) => {
            tracing::info!("scene {} reloaded: {} artworks", playlist.scene_path.display(), scene.entries.len());
            let old_selection = playlist.selection(playlist.current);
            // Every style image of the new scene decoded: nothing is refused any more.
            playlist.unusable.clear();
            let order_changed =
                scene.order != playlist.scene.order || scene.entries.len() != playlist.scene.entries.len();
            playlist.scene = scene;
            if order_changed || playlist.current >= playlist.scene.entries.len() {
                playlist.current = playlist.current.min(playlist.scene.entries.len() - 1);
                playlist.reorder();
                playlist.order_pos = playlist.order.iter().position(|&i| i == playlist.current).unwrap_or(0);
            }
            // Apply an edit of the artwork on show at once.
            if playlist.selection(playlist.current) != old_selection {
                let current = playlist.current;
                let started = playlist.entry_started;
                select(&mut playlist, current, now, false, &mut out, &mut changed);
                playlist.entry_started = started;
            }
            problem.0 = None;
            reloaded.write(SceneReloaded(Ok(())));
        }
        Err(e) => {
            // The running scene stays; the technician sees exactly what to fix.
            tracing::error!("scene edit rejected, the current scene keeps running:\n{e}");
            problem.0 = Some(e.to_string());
            reloaded.write(SceneReloaded(Err(e.to_string())));
        }
    }
}
