//! Noticed: someone is in front of the camera. Their live image grows on the stage and a
//! prompt says what to do: hold still (auto capture) or touch to be painted (touch only).

use bevy::prelude::*;

use super::{Journey, JourneyRequest, JourneySettings, live_view};
use crate::app::AppSystems;
use crate::app::language;
use crate::app::theme;
use crate::app::theme::Ink;

#[derive(Component)]
struct PaintMeButton;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Journey::Noticed), spawn)
        .add_systems(Update, press.in_set(AppSystems::Input).run_if(in_state(Journey::Noticed)));
}

fn spawn(mut commands: Commands, time: Res<Time>, settings: Res<JourneySettings>) {
    live_view::spawn(&mut commands, &time, Journey::Noticed, (0.4, 1.0, 0.7), false);
    let auto = settings.auto_capture();
    commands.spawn((DespawnOnExit(Journey::Noticed), theme::prompt_row())).with_children(|row| {
        if auto {
            row.spawn((theme::VisitorPanel("prompt"), theme::panel(36.0, 14.0))).with_children(|p| {
                p.spawn(language::headline("noticed-hold-still", 52.0, Ink::Text));
                p.spawn(language::label("noticed-about-to-be-painted", 26.0, Ink::Accent));
            });
        } else {
            row.spawn((PaintMeButton, theme::VisitorPanel("prompt"), theme::touch_button(44.0))).with_children(|b| {
                b.spawn(language::headline("noticed-touch-to-be-painted", 44.0, Ink::Text));
            });
        }
    });
}

fn press(
    buttons: Query<&Interaction, (Changed<Interaction>, With<PaintMeButton>)>,
    mut requests: MessageWriter<JourneyRequest>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        requests.write(JourneyRequest::PaintMe);
    }
}
