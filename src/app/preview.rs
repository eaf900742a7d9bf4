//! Picture-in-picture of the live camera, so visitors see what the painter sees.

use bevy::prelude::*;

use super::AppSystems;
use super::camera_texture::CameraTexture;
use super::pipeline::PipelineStatus;

#[derive(Component)]
struct Preview;

/// Present when the config asks for the camera preview.
#[derive(Resource)]
pub struct PreviewEnabled;

const PREVIEW_W: u32 = 240;

/// Built when the first frame arrives (the node takes its size from it).
#[derive(Resource)]
struct PreviewTexture(CameraTexture);

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, update_preview.in_set(AppSystems::Present).run_if(resource_exists::<PreviewEnabled>));
}

fn update_preview(
    mut commands: Commands,
    status: Res<PipelineStatus>,
    time: Res<Time>,
    mut images: ResMut<Assets<Image>>,
    texture: Option<ResMut<PreviewTexture>>,
    mut nodes: Query<(&mut ImageNode, &mut Visibility), With<Preview>>,
    journey: Option<Res<State<super::journey::Journey>>>,
) {
    // While the visitor's live image is big in the middle, the corner copy would only distract.
    let hidden = journey.is_some_and(|j| j.get().shows_live_view());
    let want = if hidden { Visibility::Hidden } else { Visibility::Inherited };
    for (_, mut v) in &mut nodes {
        if *v != want {
            *v = want;
        }
    }
    let Some(frame) = status.capture.as_ref().and_then(|c| c.latest.clone()) else { return };
    let now = time.elapsed_secs_f64();
    match texture {
        Some(mut t) => {
            if t.0.refresh(&frame, now, &mut images) {
                for (mut n, _) in &mut nodes {
                    n.image = t.0.handle.clone();
                }
            }
        }
        None => {
            // At most 10 updates a second: a preview, not a second video.
            let mut t = CameraTexture::new(PREVIEW_W, 10.0);
            t.refresh(&frame, now, &mut images);
            commands.spawn((
                Preview,
                super::theme::VisitorPanel("preview"),
                ImageNode::new(t.handle.clone()),
                Node {
                    position_type: PositionType::Absolute,
                    // Under the visitor's controls when they are at the top.
                    top: px(super::theme::BELOW_LANGUAGES),
                    right: px(24),
                    width: px(t.size.x),
                    height: px(t.size.y),
                    border: UiRect::all(px(3)),
                    ..default()
                },
                super::theme::edge(super::theme::Edge::Frame),
                GlobalZIndex(super::theme::z::PREVIEW),
                super::theme::Anchor::UnderControls,
            ));
            commands.insert_resource(PreviewTexture(t));
        }
    }
}
