//! Countdown: 3-2-1 in large numerals beside the live image, with the capture indicator on;
//! at zero a white flash, and the frozen frame takes the screen (see `flow`).

use bevy::prelude::*;

use super::live_view::CountdownDisc;
use super::{Journey, JourneyClock, JourneySettings, live_view, spawn_capture_indicator};
use crate::app::AppSystems;
use crate::app::language;
use crate::app::language::Localized;
use crate::app::theme;
use crate::app::theme::{Ink, TextSize};
use crate::i18n::Arg;

#[derive(Component)]
struct Numeral;

/// The flash at the moment of capture: fades out, then despawns itself.
#[derive(Component)]
struct Flash {
    born: f64,
}

const FLASH_S: f64 = 0.45;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Journey::Countdown), spawn)
        .add_systems(OnTransition { exited: Journey::Countdown, entered: Journey::Painting }, flash)
        .add_systems(Update, count.in_set(AppSystems::Present).run_if(in_state(Journey::Countdown)))
        .add_systems(Update, fade_flash.in_set(AppSystems::Present).in_set(super::JourneySystems));
}

fn spawn(mut commands: Commands, time: Res<Time>, settings: Res<JourneySettings>) {
    // On a round panel beside the live image: legible over a white shirt or a bright wall
    // too, and never over the visitor's face.
    if let Some(disc) = live_view::spawn(&mut commands, &time, Journey::Countdown, (1.0, 1.0, 0.0), true) {
        commands.entity(disc).with_children(|d| {
            d.spawn((Numeral, language::localized_strong(seconds_left(settings.config.countdown_s), 160.0, Ink::Text)));
        });
    }
    spawn_capture_indicator(&mut commands, Journey::Countdown, "countdown-photo-taken");
}

/// The numeral for `left` seconds (at least 1 while counting).
fn seconds_left(left: f64) -> Localized {
    Localized::with("countdown-seconds", vec![("seconds", Arg::Number(left.ceil().max(1.0)))])
}

fn count(
    time: Res<Time>,
    clock: Res<JourneyClock>,
    settings: Res<JourneySettings>,
    palette: Res<theme::Palette>,
    discs: Query<&CountdownDisc>,
    mut numerals: Query<(&mut Localized, &mut TextSize), With<Numeral>>,
) {
    let elapsed = time.elapsed_secs_f64() - clock.entered;
    let left = (settings.config.countdown_s - elapsed).max(0.0);

    // Each numeral lands a little larger and settles: a beat the visitor can feel.
    let within = (left - left.floor()) as f32;
    for (mut numeral, mut size) in &mut numerals {
        let want = seconds_left(left);
        if *numeral != want {
            *numeral = want;
        }
        // As large as its disc holds once the theme has scaled it (larger in high contrast).
        let diameter = discs.iter().next().map_or(200.0, |d| d.diameter);
        let want = diameter * 0.56 / palette.text_scale * (1.0 + 0.12 * within * within);
        if (size.0 - want).abs() > 2.0 {
            size.0 = want;
        }
    }
}

fn flash(mut commands: Commands, time: Res<Time>) {
    commands.spawn((
        Flash { born: time.elapsed_secs_f64() },
        theme::full_screen(JustifyContent::Center, AlignItems::Center),
        BackgroundColor(Color::WHITE),
        GlobalZIndex(theme::z::FLASH),
    ));
}

fn fade_flash(mut commands: Commands, time: Res<Time>, mut flashes: Query<(Entity, &Flash, &mut BackgroundColor)>) {
    for (entity, flash, mut bg) in &mut flashes {
        let t = (time.elapsed_secs_f64() - flash.born) / FLASH_S;
        if t >= 1.0 {
            commands.entity(entity).despawn();
        } else {
            bg.0 = Color::srgba(1.0, 1.0, 1.0, (1.0 - t * t) as f32);
        }
    }
}
