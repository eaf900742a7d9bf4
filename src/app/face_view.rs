//! Staff overlay (with F12): the camera as the face detector sees it, with a box around each
//! face it found, so a technician can check the camera's framing and the detector at a glance.

use bevy::prelude::*;

use super::AppSystems;
use super::camera_texture::CameraTexture;
use super::hud::HudVisible;
use super::pipeline::PipelineStatus;
use super::theme;

/// The panel holding the camera picture; face boxes are its children.
#[derive(Component)]
struct FaceView;

/// One face's box, positioned in percent of the picture.
#[derive(Component)]
struct FaceMark;

const VIEW_W: u32 = 320;

#[derive(Resource)]
struct FaceViewTexture(CameraTexture);

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, update_face_view.in_set(AppSystems::Present));
}

#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource and query it reads
fn update_face_view(
    mut commands: Commands,
    hud: Res<HudVisible>,
    status: Res<PipelineStatus>,
    time: Res<Time>,
    mut images: ResMut<Assets<Image>>,
    texture: Option<ResMut<FaceViewTexture>>,
    mut views: Query<(Entity, &mut ImageNode, &mut Visibility), With<FaceView>>,
    marks: Query<Entity, With<FaceMark>>,
    mut shown: Local<Option<Vec<crate::engine::FaceBox>>>,
) {
    let capture = status.capture.as_ref();
    let frame = capture.and_then(|c| c.latest.clone());
    let want = if hud.0 && frame.is_some() { Visibility::Inherited } else { Visibility::Hidden };
    for (_, _, mut v) in &mut views {
        if *v != want {
            *v = want;
        }
    }
    let (Some(frame), true) = (frame, hud.0) else { return };
    let now = time.elapsed_secs_f64();
    let view = match texture {
        Some(mut t) => {
            if t.0.refresh(&frame, now, &mut images) {
                for (_, mut n, _) in &mut views {
                    n.image = t.0.handle.clone();
                }
            }
            views.iter().next().map(|(e, _, _)| e)
        }
        None => {
            // The detector's pace: a few updates a second are enough to see the boxes follow.
            let mut t = CameraTexture::new(VIEW_W, 5.0);
            t.refresh(&frame, now, &mut images);
            let entity = commands
                .spawn((
                    FaceView,
                    ImageNode::new(t.handle.clone()),
                    Node {
                        position_type: PositionType::Absolute,
                        top: px(120),
                        right: px(24),
                        width: px(t.size.x),
                        height: px(t.size.y),
                        border: UiRect::all(px(2)),
                        ..default()
                    },
                    BorderColor::all(theme::STAFF_TEXT),
                    GlobalZIndex(theme::z::HUD),
                ))
                .id();
            commands.insert_resource(FaceViewTexture(t));
            Some(entity)
        }
    };
    let Some(view) = view else { return };
    let faces = capture.map(|c| c.faces.clone()).unwrap_or_default();
    // The boxes change a few times a second at most: rebuild them only then.
    if shown.as_ref() == Some(&faces) && !marks.is_empty() {
        return;
    }
    for m in &marks {
        commands.entity(m).despawn();
    }
    *shown = Some(faces.clone());
    commands.entity(view).with_children(|p| {
        for f in faces {
            p.spawn((
                FaceMark,
                Node {
                    position_type: PositionType::Absolute,
                    left: percent(f.x * 100.0),
                    top: percent(f.y * 100.0),
                    width: percent(f.w * 100.0),
                    height: percent(f.h * 100.0),
                    border: UiRect::all(px(2)),
                    ..default()
                },
                BorderColor::all(theme::Palette::STANDARD.accent),
            ));
        }
    });
}
