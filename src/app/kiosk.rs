//! Exhibition behaviour: close requests are ignored, the admin key chord quits.

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

fn admin_exit_chord(keys: Res<ButtonInput<KeyCode>>, settings: Res<KioskSettings>, mut exit: MessageWriter<AppExit>) {
    let chord = &settings.exit_chord;
    if !chord.is_empty() && chord.iter().all(|k| keys.pressed(*k)) && chord.iter().any(|k| keys.just_pressed(*k)) {
        tracing::info!("admin chord pressed: quitting");
        exit.write(AppExit::Success);
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
