//! The touchscreen picker: a strip of thumbnails of the scene's artworks. A tap switches the
//! painting to that artwork at once. With nobody around the strip hides and a hint invites
//! visitors to touch the screen (attract state).

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::tasks::{AsyncComputeTaskPool, Task, futures::check_ready};

use super::AppSystems;
use super::language;
use super::language::Localized;
use super::rotation::{ArtworkNotice, ArtworkRefused, Playlist, SceneReloaded, StyleRequest};
use super::theme;
use super::theme::{Edge, Ink};

/// Thumbnail button of scene entry `0`.
#[derive(Component, Clone, Copy, Debug)]
pub struct Thumbnail(pub usize);

#[derive(Component)]
struct PickerStrip;

/// A thumbnail still being decoded off the frame thread; the button shows it when ready.
#[derive(Component)]
struct PendingThumbnail(Task<Option<Image>>);

#[derive(Component)]
struct AttractHint;

/// "This artwork cannot be shown just now", above the strip while it lasts.
#[derive(Component)]
struct ArtworkNoticeText;

#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Picker {
    /// Someone touched the screen recently: the picker is shown.
    #[default]
    Shown,
    /// Nobody touched it for a while: picker hidden, hint shown.
    Hidden,
}

#[derive(Resource, Clone, Debug)]
pub struct Engagement {
    pub last_input: f64,
    pub attract_after_s: f64,
    /// Whether the attract hint shows when the strip hides (not with the visitor journey,
    /// whose attract screen invites instead).
    pub show_hint: bool,
}

const THUMB_W: u32 = 176;
const THUMB_H: u32 = 124;
const SELECTED: Edge = Edge::Accent;
const UNSELECTED: Edge = Edge::Faint;

pub(super) fn plugin(app: &mut App) {
    app.init_state::<Picker>()
        .add_systems(Startup, spawn_hint)
        .add_systems(Update, (notice_input, attract_timeout, pick).chain().in_set(AppSystems::Input))
        .add_systems(
            Update,
            (rebuild_strip, finish_thumbnails, highlight_current, show_artwork_notice)
                .chain()
                .in_set(AppSystems::Present),
        )
        .add_systems(
            OnEnter(Picker::Hidden),
            |mut s: Query<&mut Node, With<PickerStrip>>, mut h: Query<&mut Visibility, With<AttractHint>>| {
                s.iter_mut().for_each(|mut n| n.display = Display::None);
                h.iter_mut().for_each(|mut v| *v = Visibility::Inherited);
            },
        )
        .add_systems(
            OnEnter(Picker::Shown),
            |mut s: Query<&mut Node, With<PickerStrip>>, mut h: Query<&mut Visibility, With<AttractHint>>| {
                s.iter_mut().for_each(|mut n| n.display = Display::Flex);
                h.iter_mut().for_each(|mut v| *v = Visibility::Hidden);
            },
        );
}

/// Any touch, click or key counts as a visitor (or technician) being there.
pub fn notice_input(
    time: Res<Time>,
    touches: Res<Touches>,
    mouse: Res<ButtonInput<MouseButton>>,
    mut engagement: ResMut<Engagement>,
    state: Res<State<Picker>>,
    mut next: ResMut<NextState<Picker>>,
) {
    if touches.any_just_pressed() || mouse.get_just_pressed().next().is_some() {
        engagement.last_input = time.elapsed_secs_f64();
        if *state.get() == Picker::Hidden {
            next.set(Picker::Shown);
        }
    }
}

fn attract_timeout(
    time: Res<Time>,
    engagement: Res<Engagement>,
    state: Res<State<Picker>>,
    mut next: ResMut<NextState<Picker>>,
) {
    if *state.get() == Picker::Shown && time.elapsed_secs_f64() - engagement.last_input > engagement.attract_after_s {
        next.set(Picker::Hidden);
    }
}

/// A pressed thumbnail becomes a style request (mouse and touch both set `Interaction`).
pub fn pick(
    thumbs: Query<(&Interaction, &Thumbnail), Changed<Interaction>>,
    state: Res<State<Picker>>,
    mut requests: MessageWriter<StyleRequest>,
) {
    if *state.get() != Picker::Shown {
        return; // the strip is hidden; the tap only woke it
    }
    for (interaction, thumb) in &thumbs {
        if *interaction == Interaction::Pressed {
            tracing::info!("visitor picked artwork {}", thumb.0);
            requests.write(StyleRequest(thumb.0));
        }
    }
}

fn thumbnail(path: &std::path::Path) -> Option<Image> {
    // Scaled down once at load: a large scan is never held at full size for a 176 px button.
    let img = match crate::engine::imageio::load_rgb_at_most(path, 4 * THUMB_W) {
        Ok(img) => img,
        Err(e) => {
            tracing::warn!("picker: {e}");
            return None;
        }
    };
    // Cover-crop to the button's aspect so every thumbnail fills its frame.
    let (w, h) = (img.width() as f32, img.height() as f32);
    let target = THUMB_W as f32 / THUMB_H as f32;
    let (cw, ch) = if w / h > target { (h * target, h) } else { (w, w / target) };
    let (x, y) = (((w - cw) / 2.0) as u32, ((h - ch) / 2.0) as u32);
    let crop = image::imageops::crop_imm(&img, x, y, cw as u32, ch as u32).to_image();
    let small = image::imageops::resize(&crop, THUMB_W, THUMB_H, image::imageops::FilterType::Triangle);
    Some(Image::new(
        Extent3d { width: THUMB_W, height: THUMB_H, depth_or_array_layers: 1 },
        TextureDimension::D2,
        super::display::to_rgba(&small),
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    ))
}

/// Builds the strip at start and again whenever the scene file is reloaded.
fn rebuild_strip(
    mut commands: Commands,
    playlist: Option<Res<Playlist>>,
    mut reloads: MessageReader<SceneReloaded>,
    mut refused: MessageReader<ArtworkRefused>,
    existing: Query<Entity, With<PickerStrip>>,
    state: Res<State<Picker>>,
    mut built: Local<bool>,
) {
    // An artwork refused is offered no more.
    let reloaded = reloads.read().any(|r| r.0.is_ok()) | (refused.read().count() > 0);
    let Some(playlist) = playlist else { return };
    if *built && !reloaded {
        return;
    }
    *built = true;
    for e in &existing {
        commands.entity(e).despawn();
    }
    let display = if *state.get() == Picker::Shown { Display::Flex } else { Display::None };
    commands
        .spawn((
            PickerStrip,
            theme::VisitorPanel("strip"),
            Node {
                display,
                position_type: PositionType::Absolute,
                bottom: px(0),
                left: px(0),
                width: percent(100),
                padding: UiRect::all(px(12)),
                column_gap: px(14),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                ..default()
            },
            theme::fill(theme::Fill::Label),
            GlobalZIndex(theme::z::PICKER),
        ))
        .with_children(|strip| {
            for (i, entry) in playlist.scene.entries.iter().enumerate() {
                if !playlist.usable(i) {
                    continue;
                }
                let path = crate::paths::resolve(&playlist.root, &entry.styles[0].path);
                let task = AsyncComputeTaskPool::get().spawn(async move { thumbnail(&path) });
                strip
                    .spawn((
                        Button,
                        Thumbnail(i),
                        Node {
                            width: px(THUMB_W as f32 + 8.0),
                            height: px(THUMB_H as f32 + 8.0),
                            border: UiRect::all(px(4)),
                            ..default()
                        },
                        theme::edge(UNSELECTED),
                        ImageNode::default(),
                        PendingThumbnail(task),
                    ))
                    .with_children(|b| {
                        b.spawn((
                            Node {
                                position_type: PositionType::Absolute,
                                bottom: px(0),
                                left: px(0),
                                width: percent(100),
                                padding: UiRect::all(px(3)),
                                ..default()
                            },
                            theme::fill(theme::Fill::Panel),
                        ))
                        .with_children(|label| {
                            label.spawn(language::localized(Localized::EntryTitle(i), 15.0, Ink::Text));
                        });
                    });
            }
        });
}

/// While an artwork a visitor picked cannot be shown, they read so above the strip.
fn show_artwork_notice(
    mut commands: Commands,
    time: Res<Time>,
    notice: Option<Res<ArtworkNotice>>,
    shown: Query<Entity, With<ArtworkNoticeText>>,
) {
    let on = notice.is_some_and(|n| time.elapsed_secs_f64() < n.until);
    match (on, shown.iter().next()) {
        (true, None) => {
            commands
                .spawn((
                    ArtworkNoticeText,
                    Node {
                        position_type: PositionType::Absolute,
                        bottom: px(THUMB_H as f32 + 48.0),
                        width: percent(100),
                        justify_content: JustifyContent::Center,
                        ..default()
                    },
                    Pickable::IGNORE,
                    GlobalZIndex(theme::z::PICKER_HINT),
                ))
                .with_children(|row| {
                    row.spawn((theme::VisitorPanel("notice"), theme::panel(22.0, 12.0))).with_children(|p| {
                        p.spawn(language::label("artwork-unusable", 26.0, Ink::Text));
                    });
                });
        }
        (false, Some(e)) => commands.entity(e).despawn(),
        _ => {}
    }
}

/// Puts each decoded thumbnail on its button.
fn finish_thumbnails(
    mut commands: Commands,
    mut pending: Query<(Entity, &mut PendingThumbnail, &mut ImageNode)>,
    mut images: ResMut<Assets<Image>>,
) {
    for (entity, mut task, mut node) in &mut pending {
        if let Some(result) = check_ready(&mut task.0) {
            if let Some(image) = result {
                node.image = images.add(image);
            }
            commands.entity(entity).remove::<PendingThumbnail>();
        }
    }
}

fn highlight_current(playlist: Option<Res<Playlist>>, mut thumbs: Query<(&Thumbnail, &mut Edge)>) {
    let Some(playlist) = playlist else { return };
    for (thumb, mut edge) in &mut thumbs {
        edge.set_if_neq(if thumb.0 == playlist.current { SELECTED } else { UNSELECTED });
    }
}

fn spawn_hint(mut commands: Commands, engagement: Res<Engagement>) {
    if !engagement.show_hint {
        return;
    }
    commands
        .spawn((
            AttractHint,
            Node {
                position_type: PositionType::Absolute,
                bottom: px(40),
                width: percent(100),
                justify_content: JustifyContent::Center,
                ..default()
            },
            Visibility::Hidden,
            GlobalZIndex(theme::z::PICKER_HINT),
        ))
        .with_children(|n| {
            n.spawn((Node { padding: UiRect::axes(px(24), px(12)), ..default() }, theme::fill(theme::Fill::Panel)))
                .with_children(|b| {
                    b.spawn(language::label("picker-hint", 30.0, Ink::Text));
                });
        });
}
