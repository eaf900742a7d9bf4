//! Exhibition behaviour: close requests are ignored, the admin key chord quits.

use bevy::input::ButtonState;
use bevy::input::keyboard::KeyboardInput;
use bevy::platform::collections::HashSet;
use bevy::prelude::*;
use bevy::window::WindowCloseRequested;

use super::AppSystems;

#[derive(Resource, Clone, Debug)]
pub struct KioskSettings {
    pub exit_chord: Vec<KeyCode>,
    pub hud_key: KeyCode,
    pub ignore_close_requests: bool,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, (admin_exit_chord, window_close_requests).in_set(AppSystems::Input));
}

/// Follows key presses in order rather than polling `ButtonInput`: a chord typed within
/// one frame (remote tools, fast fingers) still counts.
fn admin_exit_chord(
    mut keys: MessageReader<KeyboardInput>,
    mut held: Local<HashSet<KeyCode>>,
    settings: Res<KioskSettings>,
    mut exit: MessageWriter<AppExit>,
) {
    let chord = &settings.exit_chord;
    for key in keys.read() {
        match key.state {
            ButtonState::Pressed => {
                held.insert(key.key_code);
                if !chord.is_empty() && chord.iter().all(|k| held.contains(k)) {
                    tracing::info!("admin chord pressed: quitting");
                    exit.write(AppExit::Success);
                    held.clear();
                }
            }
            ButtonState::Released => {
                held.remove(&key.key_code);
            }
        }
    }
}

fn window_close_requests(
    mut requests: MessageReader<WindowCloseRequested>,
    settings: Res<KioskSettings>,
    mut exit: MessageWriter<AppExit>,
) {
    for _ in requests.read() {
        if settings.ignore_close_requests {
            tracing::info!("window close request ignored (exhibition mode); quit with the admin key chord");
        } else {
            exit.write(AppExit::Success);
        }
    }
}
