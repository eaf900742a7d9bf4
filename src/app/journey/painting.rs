//! Painting: the painting evolves full screen from the frozen frame (the display and the
//! caption's progress words do that); this screen adds the capture indicator and says
//! what happens to the photo.

use bevy::prelude::*;

use super::{Journey, JourneySettings, spawn_capture_indicator};

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Journey::Painting), spawn);
}

fn spawn(mut commands: Commands, settings: Res<JourneySettings>) {
    let text = if settings.keepsake { "painting-photo-kept" } else { "painting-photo-deleted" };
    spawn_capture_indicator(&mut commands, Journey::Painting, text);
}
