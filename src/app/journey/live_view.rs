//! The visitor's live camera image, big in the middle of the screen while they are noticed
//! and counted down: it grows when they are noticed, so they see that it is about them.

use bevy::prelude::*;

use super::Journey;
use crate::app::AppSystems;
use crate::app::camera_texture::CameraTexture;
use crate::app::pipeline::PipelineStatus;
use crate::app::stage::{self, OnStage, Stage};
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

/// A live view node: it grows from `from` to `to` (share of the largest size the stage
/// allows) over `grow_s`.
#[derive(Component)]
pub(super) struct LiveView {
    born: f64,
    from: f32,
    to: f32,
    grow_s: f32,
}

/// The countdown's round panel, beside the live image (never on the face in it): its
/// diameter, logical px, as placed.
#[derive(Component, Default)]
pub(super) struct CountdownDisc {
    pub diameter: f32,
}

/// Between the live image and the countdown's disc.
const DISC_GAP: f32 = 28.0;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<LiveTexture>().add_systems(
        Update,
        (refresh_texture, grow)
            .chain()
            .in_set(AppSystems::Present)
            .run_if(|s: Option<Res<State<Journey>>>| s.is_some_and(|s| s.get().shows_live_view())),
    );
}

/// Spawns the live view for `state` (gone when the state ends), and with `disc` the
/// countdown's disc beside it (returned, for its numeral).
pub(super) fn spawn(
    commands: &mut Commands,
    time: &Time,
    state: Journey,
    (from, to, grow_s): (f32, f32, f32),
    disc: bool,
) -> Option<Entity> {
    commands.spawn((
        LiveView { born: time.elapsed_secs_f64(), from, to, grow_s },
        DespawnOnExit(state),
        theme::VisitorPanel("live"),
        OnStage,
        ImageNode::default(),
        // Placed by `grow` once the stage is measured.
        Node {
            position_type: PositionType::Absolute,
            width: px(0),
            height: px(0),
            border: UiRect::all(px(4)),
            ..default()
        },
        theme::edge(theme::Edge::Frame),
        GlobalZIndex(theme::z::LIVE_VIEW),
    ));
    disc.then(|| {
        let (_, fill, color) = theme::panel(0.0, 0.0);
        commands
            .spawn((
                CountdownDisc::default(),
                DespawnOnExit(state),
                OnStage,
                Node {
                    position_type: PositionType::Absolute,
                    width: px(0),
                    height: px(0),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    border_radius: BorderRadius::MAX,
                    ..default()
                },
                GlobalZIndex(theme::z::COUNTDOWN),
                fill,
                color,
                theme::VisitorPanel("countdown"),
            ))
            .id()
    })
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

/// The live image's size and place, and the disc's, for `aspect` on `stage`: the disc
/// beside the image on a wide stage, under it on a tall one, whichever leaves the image larger.
fn arrange(stage: &Stage, aspect: f32, with_disc: bool) -> Option<(Rect, Option<Rect>)> {
    let disc = |h: f32| (0.42 * h).min(340.0);
    if !with_disc {
        return stage.fit(|h| Vec2::new(h * aspect, h)).map(|(r, _)| (r, None));
    }
    // Each made at the live image's height `h`.
    let beside = stage.fit(|h| Vec2::new(h * aspect + DISC_GAP + disc(h), h)).map(|(r, h)| (r, h, true));
    let under = stage.fit(|h| Vec2::new((h * aspect).max(disc(h)), h + DISC_GAP + disc(h))).map(|(r, h)| (r, h, false));
    let (r, h, is_beside) = match (beside, under) {
        (Some(b), Some(u)) => {
            if b.1 >= u.1 {
                b
            } else {
                u
            }
        }
        (b, u) => b.or(u)?,
    };
    let (image, d) = (Vec2::new(h * aspect, h), disc(h));
    Some(if is_beside {
        let image_at = Rect::from_corners(r.min, r.min + image);
        let disc_at = Vec2::new(r.min.x + image.x + DISC_GAP, r.center().y - d / 2.0);
        (image_at, Some(Rect::from_corners(disc_at, disc_at + Vec2::splat(d))))
    } else {
        let image_at = Vec2::new(r.center().x - image.x / 2.0, r.min.y);
        let disc_at = Vec2::new(r.center().x - d / 2.0, r.min.y + image.y + DISC_GAP);
        (Rect::from_corners(image_at, image_at + image), Some(Rect::from_corners(disc_at, disc_at + Vec2::splat(d))))
    })
}

/// Grows each view within its place on the stage, with the disc beside it, and points it at
/// the current texture.
fn grow(
    time: Res<Time>,
    texture: Res<LiveTexture>,
    stage: Res<Stage>,
    mut views: Query<(&LiveView, &mut Node, &mut ImageNode), Without<CountdownDisc>>,
    mut discs: Query<(&mut CountdownDisc, &mut Node), Without<LiveView>>,
) {
    let now = time.elapsed_secs_f64();
    let tex = &texture.0;
    let aspect = if tex.size == UVec2::ZERO { 4.0 / 3.0 } else { tex.size.x as f32 / tex.size.y.max(1) as f32 };
    let Some((image_at, disc_at)) = arrange(&stage, aspect, !discs.is_empty()) else { return };
    for (view, mut node, mut image) in &mut views {
        let t = if view.grow_s <= 0.0 { 1.0 } else { ((now - view.born) as f32 / view.grow_s).clamp(0.0, 1.0) };
        let eased = t * t * (3.0 - 2.0 * t);
        let share = view.from + (view.to - view.from) * eased;
        // Grows from the middle of its place.
        stage::put(&mut node, Rect::from_center_size(image_at.center(), image_at.size() * share));
        if tex.size != UVec2::ZERO && image.image != tex.handle {
            image.image = tex.handle.clone();
        }
    }
    for (mut disc, mut node) in &mut discs {
        if let Some(r) = disc_at {
            stage::put(&mut node, r);
            if disc.diameter != r.width() {
                disc.diameter = r.width();
            }
        }
    }
}
