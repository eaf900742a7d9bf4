//! How often the display redraws: only as often as what is on screen changes, so the engine
//! keeps the CPU (on a machine without a GPU, or with software rendering, every frame drawn is
//! taken from the painter). Fast (display rate) while a snapshot fades in or a visitor's
//! moment animates; 15 per second for the attract loop's gentle pulse; 4 per second when
//! nothing moves, which is also how soon a new snapshot from the worker is picked up.
//! Touch and window events wake it at once.

use std::time::Duration;

use bevy::prelude::*;
use bevy::winit::{UpdateMode, WinitSettings};

use super::display::Canvas;
use super::journey::Journey;

pub const IDLE: Duration = Duration::from_millis(250);
pub const GENTLE: Duration = Duration::from_millis(66);
/// As fast as the display presents (vsync).
pub const ANIMATING: Duration = Duration::ZERO;

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(WinitSettings {
        focused_mode: UpdateMode::reactive_low_power(IDLE),
        unfocused_mode: UpdateMode::reactive_low_power(IDLE),
    })
    .add_systems(Last, pace);
}

/// The redraw interval for what is on screen now.
pub fn interval(fading: bool, journey: Option<Journey>) -> Duration {
    match journey {
        _ if fading => ANIMATING,
        Some(Journey::Noticed | Journey::Countdown | Journey::Painting | Journey::Reveal) => ANIMATING,
        Some(Journey::Attract) => GENTLE,
        None => IDLE,
    }
}

fn pace(
    canvas: Option<Res<Canvas>>,
    journey: Option<Res<State<Journey>>>,
    time: Res<Time>,
    mut settings: ResMut<WinitSettings>,
) {
    let fading = canvas.is_some_and(|c| c.fading(time.elapsed_secs_f64()));
    let wait = interval(fading, journey.map(|j| *j.get()));
    let mode = UpdateMode::reactive_low_power(wait);
    if settings.focused_mode != mode {
        settings.focused_mode = mode;
        settings.unfocused_mode = mode;
    }
}
