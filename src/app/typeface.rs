//! The installation's typeface: Inter (SIL Open Font License, `assets/fonts/`), compiled into
//! the binary so that a kiosk needs no installed fonts. Regular for labels and captions,
//! semibold for headlines, buttons and the countdown's numerals.

use bevy::asset::AssetId;
use bevy::prelude::*;
use bevy::text::{FontSource, FontWeight};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/Inter-Regular.otf");
const SEMIBOLD: &[u8] = include_bytes!("../../assets/fonts/Inter-SemiBold.otf");
/// The family name inside both files.
const FAMILY: &str = "Inter";

/// Keeps the semibold face loaded (the regular one is the default font).
#[derive(Resource)]
#[allow(dead_code)] // held, never read: dropping the handle would unload the face
struct Faces(Handle<Font>);

pub fn plugin(app: &mut App) {
    let mut fonts = app.world_mut().resource_mut::<Assets<Font>>();
    // The default handle: every text without a font of its own is set in Inter.
    fonts.insert(AssetId::default(), Font::from_bytes(REGULAR.to_vec())).expect("the default font slot");
    let semibold = fonts.add(Font::from_bytes(SEMIBOLD.to_vec()));
    app.insert_resource(Faces(semibold));
}

/// Inter Regular at `size` px.
pub fn regular(size: f32) -> TextFont {
    TextFont { font: FontSource::Family(FAMILY.into()), ..TextFont::from_font_size(size) }
}

/// Inter SemiBold at `size` px.
pub fn semibold(size: f32) -> TextFont {
    TextFont { weight: FontWeight::SEMIBOLD, ..regular(size) }
}
