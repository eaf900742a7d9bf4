//! The visitor's live camera image, big in the middle of the screen while they are noticed
//! and counted down: it grows when they are noticed, so they see that it is about them.

use bevy::prelude::*;

use super::Journey;
use crate::app::AppSystems;
use crate::app::display::{rgba_image, to_rgba};
use crate::app::pipeline::PipelineStatus;
use crate::app::theme;

/// Longest edge of the live texture, px: sharp enough at 80% of a 1080p screen's height
/// after the GPU scales it, cheap enough to refresh 15 times a second.
const LIVE_W: u32 = 640;

#[derive(Resource)]
struct LiveTexture {
    handle: Handle<Image>,
    size: UVec2,
    last_seq: u64,
    last_update: f64,
}

/// A live view node: its height grows from `from` to `to` (share of the window) over `grow_s`.
#[derive(Component)]
pub(super) struct LiveView {
    born: f64,
    from: f32,
    to: f32,
    grow_s: f32,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        (refresh_texture, grow)
            .chain()
            .in_set(AppSystems::Present)
            .run_if(|s: Option<Res<State<Journey>>>| s.is_some_and(|s| s.get().shows_live_view())),
    );
}

/// Spawns the live view for `state` (gone when the state ends).
pub(super) fn spawn(commands: &mut Commands, time: &Time, state: Journey, from: f32, to: f32, grow_s: f32) {
    commands
        .spawn((
            DespawnOnExit(state),
            theme::full_screen(JustifyContent::Center, AlignItems::Center),
            GlobalZIndex(theme::z::LIVE_VIEW),
        ))
        .with_children(|root| {
            root.spawn((
                LiveView { born: time.elapsed_secs_f64(), from, to, grow_s },
                ImageNode::default(),
                Node {
                    height: percent(100.0 * from),
                    aspect_ratio: Some(4.0 / 3.0),
                    border: UiRect::all(px(4)),
                    ..default()
                },
                BorderColor::all(theme::TEXT),
            ));
        });
}

fn refresh_texture(
    mut commands: Commands,
    status: Res<PipelineStatus>,
    time: Res<Time>,
    mut images: ResMut<Assets<Image>>,
    texture: Option<ResMut<LiveTexture>>,
) {
    let Some(frame) = status.capture.as_ref().and_then(|c| c.latest.clone()) else { return };
    let now = time.elapsed_secs_f64();
    let fresh = texture.as_ref().is_none_or(|t| t.last_seq != frame.seq && now - t.last_update >= 1.0 / 15.0);
    let (w, h) = (frame.image.width(), frame.image.height());
    let size = if w > LIVE_W { UVec2::new(LIVE_W, (LIVE_W * h / w).max(1)) } else { UVec2::new(w, h) };
    if fresh {
        let rgba = if size.x == w {
            to_rgba(&frame.image)
        } else {
            to_rgba(&image::imageops::resize(&*frame.image, size.x, size.y, image::imageops::FilterType::Triangle))
        };
        match texture {
            Some(mut t) if t.size == size => {
                if let Some(mut img) = images.get_mut(&t.handle) {
                    img.data = Some(rgba);
                }
                t.last_seq = frame.seq;
                t.last_update = now;
            }
            _ => {
                let handle = images.add(rgba_image(size, rgba));
                commands.insert_resource(LiveTexture { handle, size, last_seq: frame.seq, last_update: now });
            }
        }
    }
}

/// Grows each view and points it at the current texture (a new one after a size change).
fn grow(time: Res<Time>, texture: Option<Res<LiveTexture>>, mut views: Query<(&LiveView, &mut Node, &mut ImageNode)>) {
    let now = time.elapsed_secs_f64();
    for (view, mut node, mut image) in &mut views {
        let t = if view.grow_s <= 0.0 { 1.0 } else { ((now - view.born) as f32 / view.grow_s).clamp(0.0, 1.0) };
        let eased = t * t * (3.0 - 2.0 * t);
        let height = percent(100.0 * (view.from + (view.to - view.from) * eased));
        if node.height != height {
            node.height = height;
        }
        if let Some(tex) = &texture
            && image.image != tex.handle
        {
            image.image = tex.handle.clone();
            node.aspect_ratio = Some(tex.size.x as f32 / tex.size.y.max(1) as f32);
        }
    }
}
