//! Take it home, on the display: at the reveal (once photo and painting have been shown side
//! by side) a QR code with "Scan to take your painting home" in the visitor's language. Each
//! finished painting of the visit ("Paint me again", another pick) gets a link of its own.
//! The link's page is served by the guest listener (`crate::share`), with the making-of: a
//! few of the painting's snapshots, gathered by whoever painted it (this kiosk's worker or a
//! painter of the farm, the same paint loop) and sent with the finished painting; kept in
//! memory only.

use std::sync::Arc;

use bevy::image::ImageSampler;
use bevy::prelude::*;

use super::display::rgba_image;
use super::journey::{Journey, JourneyClock, JourneySettings, VisitorCapture};
use super::language;
use super::language::{Language, Localized};
use super::pipeline::PaintingUpdated;
use super::rotation::Playlist;
use super::theme;
use super::theme::Ink;
use super::{AppSystems, JourneySystems};
use crate::painting::MakingOf;
use crate::share::{ShareLabel, ShareStore};

/// The paintings on offer and the guest listener behind them.
#[derive(Resource, Clone)]
pub struct ShareDesk(pub Arc<ShareStore>);

/// The painting offered during this reveal (by image identity) and its link.
#[derive(Resource, Default, Debug, Clone)]
pub struct SharedNow {
    painting: Option<usize>,
    pub url: Option<String>,
}

#[derive(Component)]
struct ShareCode;

/// The code's picture in its card, with the side it was made at (px).
#[derive(Component)]
struct CodePicture(f32);

/// Smallest side a QR code is shown at: phones read it from a step away.
const CODE_MIN_PX: f32 = 120.0;

/// The making-of of the painting being made for the visitor (dropped with it).
#[derive(Resource, Default)]
pub struct MakingOfNow(pub MakingOf);

/// Pixels per QR module and modules of white border (the standard's quiet zone).
const MODULE_PX: u32 = 6;
const QUIET_ZONE: u32 = 4;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<SharedNow>()
        .init_resource::<MakingOfNow>()
        .add_systems(OnExit(Journey::Reveal), |mut s: ResMut<SharedNow>| *s = SharedNow::default())
        // Each painting (again after "Paint me again") starts its own; the visitor's leaving drops it.
        .add_systems(OnEnter(Journey::Painting), |mut m: ResMut<MakingOfNow>| *m = MakingOfNow::default())
        .add_systems(OnEnter(Journey::Attract), |mut m: ResMut<MakingOfNow>| *m = MakingOfNow::default())
        .add_systems(
            Update,
            gather_making_of.in_set(AppSystems::Logic).in_set(JourneySystems).run_if(resource_exists::<ShareDesk>),
        )
        .add_systems(
            Update,
            (offer_finished, show_after_side_by_side, fit_code)
                .chain()
                .in_set(AppSystems::Present)
                .run_if(in_state(Journey::Reveal).and_then(resource_exists::<ShareDesk>)),
        );
}

/// The QR code of `url` as an image, black on white, `MODULE_PX` pixels per module.
pub fn qr_image(url: &str) -> Option<Image> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PX;
    let mut rgba = vec![255u8; (side * side * 4) as usize];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % modules + QUIET_ZONE, i as u32 / modules + QUIET_ZONE);
        for y in my * MODULE_PX..(my + 1) * MODULE_PX {
            for x in mx * MODULE_PX..(mx + 1) * MODULE_PX {
                let at = ((y * side + x) * 4) as usize;
                rgba[at..at + 3].fill(0);
            }
        }
    }
    let mut image = rgba_image(UVec2::splat(side), rgba);
    // Crisp module edges, whatever the scale factor.
    image.sampler = ImageSampler::nearest();
    Some(image)
}

/// The visitor's painting's making-of, as its painter sent it with the finished painting
/// (this kiosk's engine or a painter of the farm: the same seam); the painting itself is
/// added as the last frame when it is offered.
fn gather_making_of(
    capture: Option<Res<VisitorCapture>>,
    mut painted: MessageReader<PaintingUpdated>,
    mut making_of: ResMut<MakingOfNow>,
) {
    let Some(capture) = capture else {
        painted.clear();
        return;
    };
    for PaintingUpdated(s) in painted.read() {
        if s.frame_seq != capture.frame.seq {
            continue;
        }
        if s.finished {
            // Every snapshot of the attempt that finished, whichever reached the screen.
            making_of.0 = MakingOf::from_frames(&s.making_of);
        }
    }
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one input
fn offer_finished(
    mut commands: Commands,
    desk: Res<ShareDesk>,
    capture: Option<Res<VisitorCapture>>,
    playlist: Option<Res<Playlist>>,
    language: Res<Language>,
    mut shared: ResMut<SharedNow>,
    mut making_of: ResMut<MakingOfNow>,
    mut images: ResMut<Assets<Image>>,
    old: Query<Entity, With<ShareCode>>,
) {
    let Some(capture) = capture else { return };
    let Some(painting) = capture.finished.clone() else { return };
    let identity = Arc::as_ptr(&painting) as usize;
    if shared.painting == Some(identity) {
        return;
    }
    let lang = language.current.as_str();
    let label = capture
        .painting_entry(playlist.as_deref())
        .map(|e| ShareLabel {
            title: e.title_in(lang).to_string(),
            artist: e.artist.clone(),
            year: e.year.clone(),
            credit: e.credit_in(lang).to_string(),
        })
        .unwrap_or_default();
    // The painting offered is the last frame, whatever snapshot came last.
    making_of.0.add(1.0, painting.clone());
    let frames = std::mem::take(&mut making_of.0).frames();
    let offered = desk.0.offer(painting, frames, label, lang);
    *shared = SharedNow { painting: Some(identity), url: Some(offered.url.clone()) };
    for e in &old {
        commands.entity(e).despawn();
    }
    let Some(code) = qr_image(&offered.url) else {
        tracing::error!("share: the link {} does not fit a QR code; check share.public_url", offered.url);
        return;
    };
    let side = code.width() as f32;
    let handle = images.add(code);
    commands
        .spawn((
            ShareCode,
            DespawnOnExit(Journey::Reveal),
            Node {
                position_type: PositionType::Absolute,
                left: px(28),
                bottom: px(theme::ABOVE_PICKER + 14.0),
                padding: UiRect::all(px(12)),
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                row_gap: px(8),
                border_radius: BorderRadius::all(px(14)),
                ..default()
            },
            theme::fill(theme::Fill::Paper),
            theme::VisitorPanel("qr"),
            super::stage::Reserved,
            GlobalZIndex(theme::z::JOURNEY_PROMPT),
            theme::Anchor::AbovePicker(14.0),
            Visibility::Hidden,
        ))
        .with_children(|panel| {
            panel.spawn((
                CodePicture(side),
                ImageNode::new(handle),
                Node { width: px(side), height: px(side), ..default() },
            ));
            panel.spawn((
                language::localized_strong(Localized::key("share-scan"), 20.0, Ink::OnPaper),
                TextLayout::justify(Justify::Center),
                Node { max_width: px(side + 140.0), ..default() },
            ));
        });
}

/// The card keeps under the museum label on a low screen: its code is made smaller (down to
/// what a phone still reads) where the card at full size would reach the label.
fn fit_code(
    window: Query<&Window, With<bevy::window::PrimaryWindow>>,
    reach: Res<crate::app::access::Reach>,
    labels: Query<(&ComputedNode, &UiGlobalTransform), With<super::caption::MuseumLabel>>,
    mut cards: Query<&ComputedNode, With<ShareCode>>,
    mut pictures: Query<(&CodePicture, &ComputedNode, &mut Node)>,
) {
    let (Ok(window), Some((label, at))) = (window.single(), labels.iter().next()) else { return };
    let Some(card) = cards.iter_mut().next() else { return };
    let scale = label.inverse_scale_factor();
    let label_bottom = (at.translation.y + label.size().y / 2.0) * scale;
    let card_bottom = window.height() - reach.above_picker() - 14.0;
    for (CodePicture(native), picture, mut node) in &mut pictures {
        // Everything in the card but the code: its padding and the line under it.
        let around = (card.size().y - picture.size().y) * scale;
        if card.size().y <= 0.0 {
            continue;
        }
        let room = card_bottom - label_bottom - super::stage::MARGIN - around;
        let side = px(room.floor().clamp(CODE_MIN_PX, *native));
        if node.width != side {
            node.width = side;
            node.height = side;
        }
    }
}

/// The code appears with the "Paint me again" button, after photo and painting side by side.
fn show_after_side_by_side(
    time: Res<Time>,
    clock: Res<JourneyClock>,
    settings: Res<JourneySettings>,
    mut codes: Query<&mut Visibility, With<ShareCode>>,
) {
    if time.elapsed_secs_f64() - clock.entered < settings.config.side_by_side_s {
        return;
    }
    for mut v in &mut codes {
        if *v != Visibility::Inherited {
            *v = Visibility::Inherited;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Frame;
    use crate::painting::Snapshot;

    fn picture(value: u8) -> Arc<image::RgbImage> {
        Arc::new(image::RgbImage::from_pixel(4, 3, image::Rgb([value, 0, 0])))
    }

    fn painted(iteration: u32, finished: bool, making_of: Vec<Arc<image::RgbImage>>) -> PaintingUpdated {
        PaintingUpdated(Snapshot {
            image: picture(iteration as u8),
            iteration,
            total_iterations: 10,
            level: 0,
            losses: Default::default(),
            iterations_per_second: 1.0,
            frame_seq: 7,
            style_key: "Waves".into(),
            finished,
            latency: None,
            levels: 1,
            making_of,
        })
    }

    /// The making-of kept for the visitor after `updates` (the first values of its frames).
    fn gathered(updates: Vec<PaintingUpdated>) -> Vec<u8> {
        let mut app = App::new();
        app.add_message::<PaintingUpdated>()
            .init_resource::<MakingOfNow>()
            .insert_resource(VisitorCapture {
                frame: Frame { image: picture(0), seq: 7, captured_at: std::time::Instant::now(), faces: vec![] },
                finished: None,
                finished_entry: None,
            })
            .add_systems(Update, gather_making_of);
        for u in updates {
            app.world_mut().write_message(u);
        }
        app.update();
        app.world().resource::<MakingOfNow>().0.frames().iter().map(|f| f.get_pixel(0, 0)[0]).collect()
    }

    #[test]
    fn a_painters_making_of_replaces_the_snapshots_this_kiosk_happened_to_see() {
        // From this kiosk's engine: what its loop gathered, not the snapshots the screen saw.
        let own: Vec<_> = [3, 6].into_iter().map(picture).collect();
        assert_eq!(gathered(vec![painted(1, false, vec![]), painted(10, true, own)]), vec![3, 6]);
        // From a painter that sent five: those, whatever reached the screen.
        let sent: Vec<_> = [21, 22, 23, 24, 25].into_iter().map(picture).collect();
        assert_eq!(gathered(vec![painted(1, false, vec![]), painted(10, true, sent)]), vec![21, 22, 23, 24, 25]);
    }
}
