//! The painting on screen: fitted to the window with its aspect ratio (letter/pillarbox),
//! crossfading from one snapshot to the next so refinement looks like painting.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::window::PrimaryWindow;
use image::RgbImage;

use super::AppSystems;
use super::pipeline::PaintingUpdated;
use super::rotation::{ArtworkChanged, Playlist};
use super::stage::Stage;
use crate::scene::Transition;

#[derive(Component)]
struct PaintingFrame;

#[derive(Component)]
struct PaintingLayer {
    front: bool,
}

/// The two textures the painting alternates between; their size is fixed until the
/// painting's size changes, so Bevy reuses the GPU textures.
#[derive(Resource)]
pub struct Canvas {
    front: Handle<Image>,
    back: Handle<Image>,
    pub size: UVec2,
    fade_started: f64,
    fade_s: f64,
    default_fade_s: f64,
    /// Fade length for the first snapshot after an artwork change.
    next_fade_s: Option<f64>,
    /// The pixels of the front and back textures (the textures live in the render world).
    front_pixels: Vec<u8>,
    back_pixels: Vec<u8>,
    pub updates: u64,
}

impl Canvas {
    /// A snapshot is still fading in at `now`.
    pub fn fading(&self, now: f64) -> bool {
        self.fade_s > 0.0 && now - self.fade_started < self.fade_s
    }

    /// How far the front has faded in (0..1, eased) at `now`.
    fn alpha(&self, now: f64) -> f32 {
        let t = if self.fade_s <= 0.0 { 1.0 } else { ((now - self.fade_started) / self.fade_s).clamp(0.0, 1.0) };
        // Smoothstep: paint settles in rather than blinking.
        (t * t * (3.0 - 2.0 * t)) as f32
    }
}

/// What the screen shows mid-fade: `back * (1 - alpha) + front * alpha`, per byte.
pub fn mix(back: &[u8], front: &[u8], alpha: f32) -> Vec<u8> {
    back.iter().zip(front).map(|(&b, &f)| (b as f32 + (f as f32 - b as f32) * alpha).round() as u8).collect()
}

/// Show this picture on the canvas (the frozen capture, an artwork in the attract loop),
/// with the same fit and crossfade as the painting.
#[derive(Message, Clone, Debug)]
pub struct ShowOnCanvas(pub std::sync::Arc<RgbImage>);

/// Whether the painting is framed on the stage (the visitor's finished painting, clear of
/// every panel) rather than filling the window as the ground the panels sit on.
#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct CanvasOnStage(pub bool);

#[derive(Resource, Clone, Copy)]
pub struct DisplaySettings {
    pub crossfade_ms: u32,
}

pub fn rgba_image(size: UVec2, rgba: Vec<u8>) -> Image {
    Image::new(
        Extent3d { width: size.x, height: size.y, depth_or_array_layers: 1 },
        TextureDimension::D2,
        rgba,
        TextureFormat::Rgba8UnormSrgb,
        // Render world only: replacing the data is then a cheap move, not a copy.
        RenderAssetUsages::RENDER_WORLD,
    )
}

pub fn to_rgba(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::with_capacity((img.width() * img.height() * 4) as usize);
    for p in img.pixels() {
        out.extend_from_slice(&[p[0], p[1], p[2], 255]);
    }
    out
}

pub(super) fn plugin(app: &mut App) {
    app.add_message::<ShowOnCanvas>()
        .init_resource::<CanvasOnStage>()
        .add_systems(Startup, setup)
        .add_systems(Update, (show_new_painting, note_artwork_change).in_set(AppSystems::Present))
        .add_systems(Update, (fit_to_window, fade).after(AppSystems::Present));
}

fn setup(mut commands: Commands, mut images: ResMut<Assets<Image>>, settings: Res<DisplaySettings>) {
    commands.spawn(Camera2d);
    let size = UVec2::new(4, 3);
    let blank = |images: &mut Assets<Image>| images.add(rgba_image(size, [24u8, 22, 20, 255].repeat(12)));
    let (front, back) = (blank(&mut images), blank(&mut images));
    commands
        .spawn((
            Node {
                width: percent(100),
                height: percent(100),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                ..default()
            },
            BackgroundColor(Color::BLACK),
        ))
        .with_children(|root| {
            root.spawn((
                PaintingFrame,
                super::theme::VisitorPanel("canvas"),
                // The ground the panels sit on; fitted onto the stage only when framed.
                super::stage::OnStage,
                Node { width: px(4), height: px(3), ..default() },
            ))
            .with_children(|frame| {
                for (is_front, handle) in [(false, back.clone()), (true, front.clone())] {
                    frame.spawn((
                        PaintingLayer { front: is_front },
                        ImageNode::new(handle),
                        Node {
                            position_type: PositionType::Absolute,
                            width: percent(100),
                            height: percent(100),
                            ..default()
                        },
                    ));
                }
            });
        });
    let fade_s = settings.crossfade_ms as f64 / 1000.0;
    commands.insert_resource(Canvas {
        front,
        back,
        size,
        fade_started: 0.0,
        fade_s,
        default_fade_s: fade_s,
        next_fade_s: None,
        front_pixels: Vec::new(),
        back_pixels: Vec::new(),
        updates: 0,
    });
}

fn note_artwork_change(
    mut changes: MessageReader<ArtworkChanged>,
    playlist: Option<Res<Playlist>>,
    mut canvas: ResMut<Canvas>,
) {
    let (Some(change), Some(playlist)) = (changes.read().last(), playlist) else { return };
    canvas.next_fade_s = Some(match playlist.scene.entries[change.index].transition {
        Transition::Crossfade { ms } => ms as f64 / 1000.0,
        Transition::Cut => 0.0,
    });
}

fn show_new_painting(
    mut updates: MessageReader<PaintingUpdated>,
    mut pictures: MessageReader<ShowOnCanvas>,
    mut canvas: ResMut<Canvas>,
    mut images: ResMut<Assets<Image>>,
    mut layers: Query<(&PaintingLayer, &mut ImageNode)>,
    time: Res<Time>,
) {
    let snapshot = updates.read().last().map(|PaintingUpdated(s)| s.image.clone());
    // A picture asked for in this frame wins over a snapshot of the same frame.
    let Some(img) = pictures.read().last().map(|ShowOnCanvas(p)| p.clone()).or(snapshot) else { return };
    let size = UVec2::new(img.width(), img.height());
    let rgba = to_rgba(&img);
    let canvas = &mut *canvas;
    let now = time.elapsed_secs_f64();
    if size != canvas.size {
        // A new painting size (other camera, other artwork size): new textures, no fade.
        canvas.size = size;
        canvas.front = images.add(rgba_image(size, rgba.clone()));
        canvas.back = images.add(rgba_image(size, rgba.clone()));
        canvas.back_pixels = rgba.clone();
        canvas.fade_s = 0.0;
    } else {
        // What is on screen now becomes the back, and the new snapshot fades in on top of it.
        // Usually that is the old front; when snapshots come faster than the fade, it is the
        // mix of both (swapping to the old front would jump: the picture would pump).
        let alpha = canvas.alpha(now);
        let known = canvas.back_pixels.len() == rgba.len() && canvas.front_pixels.len() == rgba.len();
        let on_screen = (alpha < 1.0 && known).then(|| mix(&canvas.back_pixels, &canvas.front_pixels, alpha));
        std::mem::swap(&mut canvas.front, &mut canvas.back);
        canvas.back_pixels = std::mem::take(&mut canvas.front_pixels);
        if let Some(mixed) = on_screen {
            if let Some(mut image) = images.get_mut(&canvas.back) {
                image.data = Some(mixed.clone());
            } else {
                canvas.back = images.add(rgba_image(size, mixed.clone()));
            }
            canvas.back_pixels = mixed;
        }
        if let Some(mut image) = images.get_mut(&canvas.front) {
            image.data = Some(rgba.clone());
        } else {
            canvas.front = images.add(rgba_image(size, rgba.clone()));
        }
        canvas.fade_s = canvas.next_fade_s.take().unwrap_or(canvas.default_fade_s);
    }
    canvas.front_pixels = rgba;
    canvas.fade_started = now;
    canvas.updates += 1;
    for (layer, mut node) in &mut layers {
        node.image = if layer.front { canvas.front.clone() } else { canvas.back.clone() };
        if layer.front {
            node.color = Color::srgba(1.0, 1.0, 1.0, if canvas.fade_s > 0.0 { 0.0 } else { 1.0 });
        }
    }
}

fn fade(canvas: Res<Canvas>, time: Res<Time>, mut layers: Query<(&PaintingLayer, &mut ImageNode)>) {
    let alpha = canvas.alpha(time.elapsed_secs_f64());
    for (layer, mut node) in &mut layers {
        if layer.front && (node.color.alpha() - alpha).abs() > 1e-3 {
            node.color = Color::srgba(1.0, 1.0, 1.0, alpha);
        }
    }
}

/// Largest size with the painting's aspect ratio that fits the window.
pub fn fit(painting: UVec2, window: Vec2) -> Vec2 {
    let aspect = painting.x as f32 / painting.y.max(1) as f32;
    if window.x / window.y.max(1.0) > aspect {
        Vec2::new(window.y * aspect, window.y) // pillarbox
    } else {
        Vec2::new(window.x, window.x / aspect) // letterbox
    }
}

fn fit_to_window(
    windows: Query<&Window, With<PrimaryWindow>>,
    canvas: Res<Canvas>,
    on_stage: Res<CanvasOnStage>,
    stage: Res<Stage>,
    mut frames: Query<&mut Node, With<PaintingFrame>>,
) {
    let Ok(window) = windows.single() else { return };
    let aspect = canvas.size.x as f32 / canvas.size.y.max(1) as f32;
    let framed = if on_stage.0 { stage.fit(|h| Vec2::new(h * aspect, h)).map(|(r, _)| r) } else { None };
    for mut node in &mut frames {
        match framed {
            Some(r) => super::stage::put(&mut node, r),
            None => {
                let size = fit(canvas.size, Vec2::new(window.width(), window.height()));
                let (width, height) = (px(size.x), px(size.y));
                if node.position_type != PositionType::Relative || node.width != width || node.height != height {
                    *node = Node { width, height, ..default() };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mix;

    #[test]
    fn mix_is_what_the_screen_shows_mid_fade() {
        assert_eq!(mix(&[0, 100, 255], &[100, 100, 0], 0.0), vec![0, 100, 255]);
        assert_eq!(mix(&[0, 100, 255], &[100, 100, 0], 1.0), vec![100, 100, 0]);
        assert_eq!(mix(&[0, 100, 255], &[100, 100, 0], 0.25), vec![25, 100, 191]);
    }
}
