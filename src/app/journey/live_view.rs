//! The visitor's live camera image, big in the middle of the screen while they are noticed
//! and counted down: it grows when they are noticed, so they see that it is about them.

use bevy::prelude::*;

use super::Journey;
use crate::app::AppSystems;
use crate::app::camera_texture::CameraTexture;
use crate::app::pipeline::PipelineStatus;
use crate::app::theme;

/// Longest edge of the live texture, px: sharp enough at 80% of a 1080p screen's height
/// after the GPU scales it, cheap enough to refresh 15 times a second.
const LIVE_W: u32 = 640;

#[derive(Resource)]
struct LiveTexture(CameraTexture);

impl Default for LiveTexture {
    fn default() -> Self {
        LiveTexture(CameraTexture::new(LIVE_W, 15.0))
    }
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
    app.init_resource::<LiveTexture>().add_systems(
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
                theme::edge(theme::Edge::Frame),
            ));
        });
}

fn refresh_texture(
    status: Res<PipelineStatus>,
    time: Res<Time>,
    mut images: ResMut<Assets<Image>>,
    mut texture: ResMut<LiveTexture>,
) {
    if let Some(frame) = status.capture.as_ref().and_then(|c| c.latest.clone()) {
        texture.0.refresh(&frame, time.elapsed_secs_f64(), &mut images);
    }
}

/// Grows each view and points it at the current texture (a new one after a size change).
fn grow(time: Res<Time>, texture: Res<LiveTexture>, mut views: Query<(&LiveView, &mut Node, &mut ImageNode)>) {
    let now = time.elapsed_secs_f64();
    for (view, mut node, mut image) in &mut views {
        let t = if view.grow_s <= 0.0 { 1.0 } else { ((now - view.born) as f32 / view.grow_s).clamp(0.0, 1.0) };
        let eased = t * t * (3.0 - 2.0 * t);
        let height = percent(100.0 * (view.from + (view.to - view.from) * eased));
        if node.height != height {
            node.height = height;
        }
        let tex = &texture.0;
        if tex.size != UVec2::ZERO && image.image != tex.handle {
            image.image = tex.handle.clone();
            node.aspect_ratio = Some(tex.size.x as f32 / tex.size.y.max(1) as f32);
        }
    }
}
