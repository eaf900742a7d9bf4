//! Picture-in-picture of the live camera, so visitors see what the painter sees.

use bevy::prelude::*;

use super::AppSystems;
use super::display::{rgba_image, to_rgba};
use super::pipeline::PipelineStatus;

#[derive(Component)]
struct Preview;

/// Present when the config asks for the camera preview.
#[derive(Resource)]
pub struct PreviewEnabled;

const PREVIEW_W: u32 = 240;

#[derive(Resource)]
struct PreviewTexture {
    handle: Handle<Image>,
    size: UVec2,
    last_seq: u64,
    last_update: f64,
}

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
    // At most 10 updates a second: a preview, not a second video. Checked before the
    // resize, which would otherwise run every render frame.
    if texture.as_ref().is_some_and(|t| t.last_seq == frame.seq || now - t.last_update < 0.1) {
        return;
    }
    let w = PREVIEW_W;
    let h = (w as f32 * frame.image.height() as f32 / frame.image.width() as f32).round().max(1.0) as u32;
    let small = image::imageops::resize(&*frame.image, w, h, image::imageops::FilterType::Triangle);
    let size = UVec2::new(w, h);
    match texture {
        Some(mut t) => {
            if t.size != size {
                t.handle = images.add(rgba_image(size, to_rgba(&small)));
                t.size = size;
                for (mut n, _) in &mut nodes {
                    n.image = t.handle.clone();
                }
            } else if let Some(mut img) = images.get_mut(&t.handle) {
                img.data = Some(to_rgba(&small));
            }
            t.last_seq = frame.seq;
            t.last_update = now;
        }
        None => {
            let handle = images.add(rgba_image(size, to_rgba(&small)));
            commands.spawn((
                Preview,
                ImageNode::new(handle.clone()),
                Node {
                    position_type: PositionType::Absolute,
                    top: px(24),
                    right: px(24),
                    width: px(w),
                    height: px(h),
                    border: UiRect::all(px(3)),
                    ..default()
                },
                BorderColor::all(super::theme::TEXT.with_alpha(0.6)),
                GlobalZIndex(super::theme::z::PREVIEW),
            ));
            commands.insert_resource(PreviewTexture { handle, size, last_seq: frame.seq, last_update: now });
        }
    }
}
