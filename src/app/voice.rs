//! The spoken journey: each step of the visit said aloud in the visitor's language (the
//! invitation, the countdown's numbers, "painting", the reveal with the artwork's title, the
//! take-home hint), through Bevy's audio. On for every visit with `kiosk.voice.enabled`, or
//! for one visit after the visitor presses "Read aloud" beside the languages.
//!
//! What to say is worked out each frame from the journey's state (a [`Cue`]); a new cue is
//! asked of the voice thread (`crate::voice`), which makes or finds its WAV, and the line
//! plays when it comes back, one line after another. Lines of a step the visitor has left
//! are dropped unsaid.

use std::collections::VecDeque;
use std::io::Cursor;

use bevy::audio::{AudioPlayer, AudioSource, PlaybackSettings, Volume};
use bevy::prelude::*;

use super::access::{self, SettingsRow};
use super::journey::{Journey, JourneyClock, JourneySettings, VisitorCapture};
use super::language::{self, Language, Texts};
use super::rotation::Playlist;
use super::share::SharedNow;
use super::theme::{self, Edge, Fill, Ink};
use super::{AppSystems, JourneySystems};
use crate::config::VoiceConfig;
use crate::i18n::{Arg, Catalog};
use crate::voice::{Line, Request, Speaker};

/// `kiosk.voice`.
#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct VoiceSettings(pub VoiceConfig);

/// The voice thread (absent: no voice at all, e.g. without the journey).
#[derive(Resource)]
pub struct VoiceDesk(pub Speaker);

/// This machine has no loudspeaker to speak through (why, and the fix): the voice is silent,
/// its button hides, and staff read so on /health and the status screen.
#[derive(Resource, Clone, Debug)]
pub struct AudioOutputMissing(pub String);

/// Why the voice cannot be heard, when it is configured and cannot: for staff.
pub fn silent_because(desk: Option<&VoiceDesk>, missing: Option<&AudioOutputMissing>) -> Option<String> {
    let desk = desk?;
    if desk.0.is_silent() {
        return Some("espeak-ng is missing (fix: sudo apt-get install espeak-ng)".into());
    }
    missing.map(|m| m.0.replace("\n  fix:", " (fix:") + ")")
}

/// Whether this visit is spoken: `kiosk.voice.enabled`, switched by the visitor's button,
/// back to the config for the next visitor.
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct VoiceOn(pub bool);

/// "Read aloud", beside the languages.
#[derive(Component)]
#[require(theme::VisitorSetting)]
pub struct VoiceButton;

/// A line being played: which message, in which language (tests and the F12 overlay read it).
#[derive(Component, Clone, Debug)]
pub struct SpokenLine {
    pub key: &'static str,
    pub lang: String,
}

/// What the journey would say now: a Fluent message with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Cue {
    fn key(key: &'static str) -> Cue {
        Cue { key, args: Vec::new() }
    }

    fn line(&self, texts: &Catalog, lang: &str) -> Line {
        Line { lang: lang.to_string(), text: texts.text_with(lang, self.key, &self.args) }
    }
}

/// Asked lines and lines ready to play, by the journey step they belong to.
#[derive(Resource, Default)]
struct VoiceQueue {
    /// Counts journey steps: a line asked in an earlier step is not played.
    step: u64,
    seen_state: Option<Journey>,
    /// The last cue asked (with its language): asked once, not every frame.
    asked: Option<(Cue, String)>,
    /// Messages of the asked lines, by tag (the voice thread answers with the tag).
    keys: VecDeque<(u64, &'static str)>,
    next_tag: u64,
    ready: VecDeque<(u64, &'static str, crate::voice::Spoken)>,
    /// App seconds until the line playing now has been said.
    busy_until: f64,
    /// The visitor turned the voice on before their visit began: say the invitation.
    answer_in_attract: bool,
}

/// Lines asked and not answered, kept at most (a synthesiser failing on every line must not
/// grow memory all day).
const MAX_WAITING: usize = 64;

/// A pause between two lines, so that "three" and "two" do not run into each other.
const GAP_S: f64 = 0.15;

pub fn plugin(app: &mut App) {
    let on = app.world().get_resource::<VoiceSettings>().is_some_and(|s| s.0.enabled);
    app.init_resource::<VoiceSettings>()
        .init_resource::<VoiceQueue>()
        .insert_resource(VoiceOn(on))
        .add_systems(Startup, (prepare_lines, spawn_button.after(access::spawn_controls)).in_set(JourneySystems))
        .add_systems(OnEnter(Journey::Attract), reset)
        .add_systems(Update, switch.in_set(AppSystems::Input).in_set(JourneySystems))
        .add_systems(Update, (follow_journey, receive, play).chain().in_set(AppSystems::Present).in_set(JourneySystems))
        .add_systems(Update, show_switch.in_set(AppSystems::Present).in_set(JourneySystems));
}

/// Every line that does not name an artwork, in every language, made before the first
/// visitor (espeak-ng takes ~10 ms a line; the cache keeps them across restarts).
fn prepare_lines(desk: Option<Res<VoiceDesk>>, texts: Res<Texts>, settings: Option<Res<JourneySettings>>) {
    let Some(desk) = desk else { return };
    let countdown = settings.map_or(3.0, |s| s.config.countdown_s).ceil().max(1.0) as u32;
    let mut cues: Vec<Cue> =
        ["voice-attract", "voice-noticed-hold-still", "voice-noticed-touch", "voice-painting", "voice-take-home"]
            .into_iter()
            .map(Cue::key)
            .collect();
    cues.extend((1..=countdown).map(countdown_cue));
    for lang in texts.0.languages() {
        for cue in &cues {
            desk.0.ask(Request { tag: 0, line: cue.line(&texts.0, lang), prepare_only: true });
        }
    }
}

fn countdown_cue(seconds: u32) -> Cue {
    Cue { key: "voice-countdown", args: vec![("seconds", Arg::Number(seconds as f64))] }
}

fn spawn_button(
    mut commands: Commands,
    desk: Option<Res<VoiceDesk>>,
    settings: Res<VoiceSettings>,
    rows: Query<Entity, With<SettingsRow>>,
) {
    if desk.is_none() || !settings.0.button {
        return;
    }
    for row in &rows {
        commands.entity(row).with_children(|row| {
            row.spawn((VoiceButton, theme::touch_button(20.0))).with_children(|b| {
                b.spawn(language::label("access-voice", 20.0, Ink::Text));
            });
        });
    }
}

/// The next visitor starts with the configured voice.
fn reset(settings: Res<VoiceSettings>, mut on: ResMut<VoiceOn>) {
    on.set_if_neq(VoiceOn(settings.0.enabled));
}

fn switch(
    mut commands: Commands,
    buttons: Query<&Interaction, (Changed<Interaction>, With<VoiceButton>)>,
    mut on: ResMut<VoiceOn>,
    mut queue: ResMut<VoiceQueue>,
    playing: Query<Entity, With<SpokenLine>>,
) {
    if !buttons.iter().any(|i| *i == Interaction::Pressed) {
        return;
    }
    on.0 = !on.0;
    tracing::info!("visitor switched the voice {}", if on.0 { "on" } else { "off" });
    // Said at once: the current step (before a visit, the invitation), as the button's answer;
    // switched off, silent at once.
    queue.asked = None;
    queue.ready.clear();
    queue.busy_until = 0.0;
    queue.answer_in_attract = on.0;
    for line in &playing {
        commands.entity(line).despawn();
    }
}

/// What the journey says in its current step, None where it is quiet.
#[allow(clippy::too_many_arguments)] // a Bevy system's inputs, each one part of the journey
fn cue_now(
    state: Journey,
    elapsed: f64,
    settings: &JourneySettings,
    capture: Option<&VisitorCapture>,
    playlist: Option<&Playlist>,
    lang: &str,
    shared: Option<&SharedNow>,
    attract_asked: bool,
) -> Option<Cue> {
    match state {
        Journey::Attract => attract_asked.then(|| Cue::key("voice-attract")),
        Journey::Noticed if settings.auto_capture() => Some(Cue::key("voice-noticed-hold-still")),
        Journey::Noticed => Some(Cue::key("voice-noticed-touch")),
        Journey::Countdown => {
            let left = (settings.config.countdown_s - elapsed).ceil().max(1.0);
            Some(countdown_cue(left as u32))
        }
        Journey::Painting => Some(Cue::key("voice-painting")),
        Journey::Reveal => {
            let shown = elapsed >= settings.config.side_by_side_s;
            if shown && shared.is_some_and(|s| s.url.is_some()) {
                return Some(Cue::key("voice-take-home"));
            }
            let capture = capture?;
            let title = capture.painting_entry(playlist).map(|e| e.title_in(lang).to_string()).unwrap_or_default();
            Some(Cue { key: "voice-reveal", args: vec![("title", Arg::Text(title))] })
        }
    }
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one input
fn follow_journey(
    desk: Option<Res<VoiceDesk>>,
    on: Res<VoiceOn>,
    state: Option<Res<State<Journey>>>,
    time: Res<Time>,
    clock: Option<Res<JourneyClock>>,
    journey: Option<Res<JourneySettings>>,
    capture: Option<Res<VisitorCapture>>,
    playlist: Option<Res<Playlist>>,
    shared: Option<Res<SharedNow>>,
    language: Res<Language>,
    texts: Res<Texts>,
    mut queue: ResMut<VoiceQueue>,
) {
    let (Some(desk), Some(state), Some(journey)) = (desk, state, journey) else { return };
    let state = *state.get();
    // The Attract line is the button's answer only: never said to an empty room.
    let answer = std::mem::take(&mut queue.answer_in_attract);
    let attract_asked = state == Journey::Attract && answer;
    if queue.seen_state != Some(state) {
        queue.seen_state = Some(state);
        queue.step += 1;
        let step = queue.step;
        queue.ready.retain(|(s, ..)| *s == step);
        queue.asked = None;
    }
    if !on.0 {
        queue.asked = None;
        return;
    }
    let elapsed = time.elapsed_secs_f64() - clock.map_or(0.0, |c| c.entered);
    let lang = language.current.as_str();
    let Some(cue) = cue_now(
        state,
        elapsed,
        &journey,
        capture.as_deref(),
        playlist.as_deref(),
        lang,
        shared.as_deref(),
        attract_asked,
    ) else {
        return;
    };
    let asked = (cue, lang.to_string());
    if queue.asked.as_ref() == Some(&asked) {
        return;
    }
    let tag = queue.next_tag;
    queue.next_tag += 1;
    let step = queue.step;
    queue.keys.push_back((tag, asked.0.key));
    if queue.keys.len() > MAX_WAITING {
        queue.keys.pop_front();
    }
    desk.0.ask(Request { tag: step << 32 | tag, line: asked.0.line(&texts.0, lang), prepare_only: false });
    queue.asked = Some(asked);
}

/// Lines the voice thread has made: kept to play if their step is still on.
fn receive(desk: Option<Res<VoiceDesk>>, mut queue: ResMut<VoiceQueue>) {
    let Some(desk) = desk else { return };
    for spoken in desk.0.spoken() {
        let (step, tag) = (spoken.tag >> 32, spoken.tag & 0xffff_ffff);
        let Some(at) = queue.keys.iter().position(|(t, _)| *t == tag) else { continue };
        let (_, key) = queue.keys.remove(at).expect("found above");
        if step == queue.step {
            queue.ready.push_back((step, key, spoken));
        }
    }
}

/// One line after another, each for as long as its WAV lasts.
fn play(
    mut commands: Commands,
    time: Res<Time>,
    on: Res<VoiceOn>,
    settings: Res<VoiceSettings>,
    mut queue: ResMut<VoiceQueue>,
    mut sources: ResMut<Assets<AudioSource>>,
) {
    let now = time.elapsed_secs_f64();
    if !on.0 {
        queue.ready.clear();
        return;
    }
    if now < queue.busy_until {
        return;
    }
    let Some((_, key, spoken)) = queue.ready.pop_front() else { return };
    let length = match wav_seconds(&spoken.wav) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("voice: the line {:?} is not a WAV file Bevy can play ({e}); skipped", spoken.line.text);
            return;
        }
    };
    let source = sources.add(AudioSource { bytes: spoken.wav.clone() });
    commands.spawn((
        SpokenLine { key, lang: spoken.line.lang.clone() },
        AudioPlayer(source),
        PlaybackSettings::DESPAWN.with_volume(Volume::Linear(settings.0.volume)),
    ));
    queue.busy_until = now + length + GAP_S;
}

/// How long a WAV file plays, from its header.
pub fn wav_seconds(bytes: &[u8]) -> Result<f64, hound::Error> {
    let reader = hound::WavReader::new(Cursor::new(bytes))?;
    let spec = reader.spec();
    Ok(reader.duration() as f64 / spec.sample_rate.max(1) as f64)
}

/// The button shows whether the voice is on, and goes when there is no voice to give
/// (the synthesiser is missing: said once in the log, with its fix).
fn show_switch(
    on: Res<VoiceOn>,
    desk: Option<Res<VoiceDesk>>,
    missing: Option<Res<AudioOutputMissing>>,
    mut buttons: Query<(&mut Edge, &mut Fill, &mut Visibility), With<VoiceButton>>,
) {
    let silent = desk.is_none_or(|d| d.0.is_silent()) || missing.is_some();
    for (mut edge, mut fill, mut visibility) in &mut buttons {
        visibility.set_if_neq(if silent { Visibility::Hidden } else { Visibility::Inherited });
        edge.set_if_neq(if on.0 { Edge::Accent } else { Edge::Faint });
        fill.set_if_neq(if on.0 { Fill::Panel } else { Fill::Label });
    }
}
