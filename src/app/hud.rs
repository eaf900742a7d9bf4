//! What staff need to see: an admin status overlay (toggled by a key), a small banner when
//! the camera or the engine has a problem, and a "closed" screen outside opening hours.

use bevy::diagnostic::{DiagnosticsStore, FrameTimeDiagnosticsPlugin};
use bevy::prelude::*;

use super::AppSystems;
use super::journey::Journey;
use super::keepsake::KeepsakeProblem;
use super::kiosk::KioskSettings;
use super::language;
use super::language::Localized;
use super::pipeline::PipelineStatus;
use super::rotation::{Opening, Playlist, SceneProblem};
use super::theme;
use super::theme::Ink;
use crate::capture::CaptureState;
use crate::painting::WorkerState;

#[derive(Component)]
struct HudText;

#[derive(Component)]
struct Banner;

#[derive(Component)]
struct ClosedScreen;

#[derive(Resource, Default)]
pub struct HudVisible(pub bool);

pub(super) fn plugin(app: &mut App) {
    if !app.is_plugin_added::<FrameTimeDiagnosticsPlugin>() {
        app.add_plugins(FrameTimeDiagnosticsPlugin::default());
    }
    app.init_resource::<HudVisible>()
        .add_systems(Startup, spawn)
        .add_systems(Update, (toggle, update_hud, update_banner).chain().in_set(AppSystems::Present))
        .add_systems(OnEnter(Opening::Closed), |mut q: Query<&mut Visibility, With<ClosedScreen>>| {
            q.iter_mut().for_each(|mut v| *v = Visibility::Inherited)
        })
        .add_systems(OnExit(Opening::Closed), |mut q: Query<&mut Visibility, With<ClosedScreen>>| {
            q.iter_mut().for_each(|mut v| *v = Visibility::Hidden)
        });
}

fn spawn(mut commands: Commands) {
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: px(120),
                left: px(24),
                padding: UiRect::all(px(12)),
                max_width: px(760),
                ..default()
            },
            BackgroundColor(theme::STAFF_PANEL),
            Visibility::Hidden,
            GlobalZIndex(theme::z::HUD),
            HudText,
        ))
        .with_children(|p| {
            p.spawn(theme::staff_text(16.0, theme::STAFF_TEXT));
        });
    commands
        .spawn((
            Banner,
            Node {
                position_type: PositionType::Absolute,
                bottom: px(170),
                right: px(24),
                padding: UiRect::axes(px(12), px(6)),
                ..default()
            },
            theme::fill(theme::Fill::Trouble),
            Visibility::Hidden,
            GlobalZIndex(theme::z::BANNER),
        ))
        .with_children(|p| {
            p.spawn(language::localized(Localized::key("banner-camera-lost"), 20.0, Ink::Text));
        });
    commands
        .spawn((
            ClosedScreen,
            Node {
                position_type: PositionType::Absolute,
                width: percent(100),
                height: percent(100),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                ..default()
            },
            theme::fill(theme::Fill::Closed),
            Visibility::Hidden,
            GlobalZIndex(theme::z::CLOSED),
        ))
        .with_children(|p| {
            p.spawn(language::localized_strong(Localized::key("closed-resting"), 40.0, Ink::Text));
        });
}

fn toggle(
    keys: Res<ButtonInput<KeyCode>>,
    settings: Res<KioskSettings>,
    mut visible: ResMut<HudVisible>,
    mut q: Query<&mut Visibility, With<HudText>>,
) {
    if keys.just_pressed(settings.hud_key) {
        visible.0 = !visible.0;
        for mut v in &mut q {
            *v = if visible.0 { Visibility::Inherited } else { Visibility::Hidden };
        }
    }
}

pub fn status_lines(status: &PipelineStatus, fps: Option<f64>, scene_problem: Option<&str>, caption: &str) -> String {
    let w = &status.worker;
    let mut lines = vec![
        format!("display {:.0} fps | engine {} | {:?}", fps.unwrap_or(0.0), w.device, w.state),
        format!(
            "artwork: {caption} | {:.2} it/s | size {} px | loss {:.3e} (content {:.2e} style {:.2e} tv {:.2e})",
            w.iterations_per_second, w.size, w.losses.total, w.losses.content, w.losses.style, w.losses.tv
        ),
        format!(
            "capture->first painting {} | snapshots {} | worker restarts {}",
            w.last_latency.map(|l| format!("{:.2} s", l.as_secs_f64())).unwrap_or_else(|| "-".into()),
            w.snapshots,
            w.restarts
        ),
    ];
    if let Some(farm) = &w.farm {
        lines.push(format!("farm: {}", farm.describe()));
    }
    if let Some(c) = &status.capture {
        lines.push(format!(
            "source: {} | {:?} | {:.1} fps | frames {} dropped {}",
            c.source, c.state, c.fps, c.frames, c.dropped
        ));
    }
    if let Some(p) = scene_problem {
        lines.push(format!("SCENE EDIT REJECTED: {p}"));
    }
    for n in &status.notices {
        lines.push(format!("{} {}", if n.error { "!" } else { "-" }, n.text));
    }
    lines.join("\n")
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one thing the overlay shows
fn update_hud(
    visible: Res<HudVisible>,
    status: Res<PipelineStatus>,
    diagnostics: Res<DiagnosticsStore>,
    problem: Res<SceneProblem>,
    playlist: Option<Res<Playlist>>,
    journey: Option<Res<State<Journey>>>,
    keepsake: Option<Res<KeepsakeProblem>>,
    status_file: Option<Res<super::status_file::StatusFileProblem>>,
    visitor: (Option<Res<super::language::Language>>, Option<Res<super::share::ShareDesk>>),
    voice: (Option<Res<super::voice::VoiceDesk>>, Option<Res<super::voice::AudioOutputMissing>>),
    hud: Query<&Children, With<HudText>>,
    mut texts: Query<&mut Text>,
) {
    if !visible.0 {
        return;
    }
    let fps = diagnostics.get(&FrameTimeDiagnosticsPlugin::FPS).and_then(|d| d.smoothed());
    let caption = playlist.as_ref().map(|p| p.entry().caption()).unwrap_or_default();
    let mut s = status_lines(&status, fps, problem.0.as_deref(), &caption);
    for refused in playlist.as_ref().map(|p| p.refused()).unwrap_or_default() {
        s.push_str(&format!("\nARTWORK NOT SHOWN: {refused}"));
    }
    if let Some(why) = super::voice::silent_because(voice.0.as_deref(), voice.1.as_deref()) {
        s.push_str(&format!("\nVOICE SILENT: {why}"));
    }
    if let Some(j) = journey {
        let presence = status.capture.as_ref().and_then(|c| c.presence.map(|p| (p, c.presence_cost_us)));
        match presence {
            Some((p, cost)) => s.push_str(&format!(
                "\njourney: {:?} | presence: {} (foreground {:.1}%, motion {:.1}%, {:.2} ms/frame)",
                j.get(),
                p.describe(),
                100.0 * p.foreground,
                100.0 * p.motion,
                cost / 1000.0
            )),
            None => s.push_str(&format!("\njourney: {:?} | presence detection off", j.get())),
        }
    }
    if let Some(c) = status.capture.as_ref() {
        s.push_str(&if c.face_cost_us > 0.0 {
            let ms = c.face_cost_us / 1000.0;
            format!("\nfaces: {} in view ({ms:.1} ms/detection; boxes on the camera view)", c.faces.len())
        } else {
            "\nfaces: detector off".to_string()
        });
    }
    let (language, share) = visitor;
    if let Some(l) = language {
        s.push_str(&format!("\nlanguage: {} (the next visitor starts in {})", l.current, l.default));
    }
    if let Some(desk) = share {
        let c = desk.0.config();
        s.push_str(&format!(
            "\ntake-home: {} paintings on offer at {}, each deleted after {} min",
            desk.0.offered(),
            c.public_url,
            c.expire_min
        ));
    }
    if let Some(problem) = keepsake.and_then(|k| k.0.lock().expect("keepsake problem lock").clone()) {
        s.push_str(&format!("\nKEEPSAKE: {problem}"));
    }
    if let Some(problem) = status_file.and_then(|p| p.0.clone()) {
        s.push_str(&format!("\nSTATUS FILE NOT WRITTEN: {problem}"));
    }
    for children in &hud {
        for c in children.iter() {
            if let Ok(mut t) = texts.get_mut(c) {
                t.0 = s.clone();
            }
        }
    }
}

/// A short message a technician can read from across the room; visitors barely notice it.
fn update_banner(
    status: Res<PipelineStatus>,
    banner: Query<(Entity, &Children), With<Banner>>,
    mut vis: Query<&mut Visibility>,
    mut texts: Query<&mut Localized>,
) {
    let message = match (&status.capture.as_ref().map(|c| &c.state), &status.worker.state) {
        (_, WorkerState::Failed(_)) => Some("banner-painter-stopped"),
        (Some(CaptureState::Lost { .. }), _) => Some("banner-camera-lost"),
        (Some(CaptureState::Missing { .. }), _) => Some("banner-no-camera"),
        (Some(CaptureState::Stalled { .. }), _) => Some("banner-camera-stalled"),
        // The farm: a painting out and no painter heard from for a while (the queue is long,
        // or a painter died and another takes over); the last picture stays on screen.
        _ if status.worker.farm.as_ref().is_some_and(|f| f.waiting) => Some("banner-painter-waiting"),
        _ => None,
    };
    for (e, children) in &banner {
        if let Ok(mut v) = vis.get_mut(e) {
            let want = if message.is_some() { Visibility::Inherited } else { Visibility::Hidden };
            if *v != want {
                *v = want;
            }
        }
        if let Some(key) = message {
            let want = Localized::key(key);
            for c in children.iter() {
                if let Ok(mut t) = texts.get_mut(c)
                    && *t != want
                {
                    *t = want.clone();
                }
            }
        }
    }
}
