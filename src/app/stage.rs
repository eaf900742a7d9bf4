//! The stage: the part of the screen that the label, the visitor's controls, the prompts,
//! the QR card and the picker strip leave free. What the visitor looks at (the live image,
//! the countdown, photo and painting side by side, the finished painting) is fitted into it,
//! so that no panel covers the face, a corner of the painting or a prompt, in any language,
//! theme or orientation.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::theme::VisitorPanel;

/// A visitor panel placed on the stage, not one that the stage keeps clear of.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct OnStage;

/// A panel the stage keeps clear of while it is still hidden (the QR card and "Paint me
/// again" wait out the side by side): what is framed does not move when they appear.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct Reserved;

/// The window and the panels that the stage keeps clear of, in logical px, as last laid out.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Stage {
    pub window: Vec2,
    pub obstacles: Vec<Rect>,
}

/// Room kept between what is on the stage and the panels and screen edges around it.
pub const MARGIN: f32 = 16.0;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Stage>().add_systems(PreUpdate, measure);
}

/// A node as laid out: its size, where it is, whether it shows.
type LaidOut = (&'static ComputedNode, &'static UiGlobalTransform, &'static InheritedVisibility, Has<Reserved>);

/// The panels as the last frame laid them out (a frame behind: what is on the stage never
/// moves a panel, so this settles at once).
fn measure(
    window: Query<&Window, With<PrimaryWindow>>,
    panels: Query<LaidOut, (With<VisitorPanel>, Without<OnStage>)>,
    mut stage: ResMut<Stage>,
) {
    let Ok(window) = window.single() else { return };
    let mut obstacles: Vec<Rect> = panels
        .iter()
        .filter(|(node, _, visible, reserved)| {
            (visible.get() || *reserved) && node.size().x > 0.0 && node.size().y > 0.0
        })
        .map(|(node, at, _, _)| {
            let scale = node.inverse_scale_factor();
            Rect::from_center_size(at.translation * scale, node.size() * scale)
        })
        .collect();
    obstacles.sort_by(|a, b| a.min.x.total_cmp(&b.min.x).then(a.min.y.total_cmp(&b.min.y)));
    let measured = Stage { window: Vec2::new(window.width(), window.height()), obstacles };
    if *stage != measured {
        *stage = measured;
    }
}

impl Stage {
    /// The largest box `size(s)` (growing with `s`) that fits the screen without touching a
    /// panel, as near the middle of the screen as it can be, with the `s` it was made at;
    /// None when not even a tiny one fits.
    pub fn fit(&self, size: impl Fn(f32) -> Vec2) -> Option<(Rect, f32)> {
        let (mut lo, mut hi) = (0.0_f32, self.window.x.max(self.window.y));
        let mut best = None;
        for _ in 0..24 {
            let mid = (lo + hi) / 2.0;
            match self.place(size(mid)) {
                Some(r) => {
                    best = Some((r, mid));
                    lo = mid;
                }
                None => hi = mid,
            }
        }
        best
    }

    /// Where a box of `size` fits nearest the middle of the screen, if anywhere: tried at the
    /// middle, against each edge and against each panel's sides.
    fn place(&self, size: Vec2) -> Option<Rect> {
        let (w, h) = (self.window, size);
        let mut xs = vec![(w.x - h.x) / 2.0, MARGIN, w.x - MARGIN - h.x];
        let mut ys = vec![(w.y - h.y) / 2.0, MARGIN, w.y - MARGIN - h.y];
        for o in &self.obstacles {
            xs.extend([o.max.x + MARGIN, o.min.x - MARGIN - h.x]);
            ys.extend([o.max.y + MARGIN, o.min.y - MARGIN - h.y]);
        }
        let middle = w / 2.0;
        let mut best: Option<(f32, Rect)> = None;
        for &x in &xs {
            for &y in &ys {
                let r = Rect::from_corners(Vec2::new(x, y), Vec2::new(x, y) + h);
                let e = 1e-3;
                let inside = r.min.x >= MARGIN - e
                    && r.min.y >= MARGIN - e
                    && r.max.x <= w.x - MARGIN + e
                    && r.max.y <= w.y - MARGIN + e;
                if !inside || self.obstacles.iter().any(|o| !o.inflate(MARGIN - e).intersect(r).is_empty()) {
                    continue;
                }
                let off = r.center().distance_squared(middle);
                if best.is_none_or(|(d, _)| off < d) {
                    best = Some((off, r));
                }
            }
        }
        best.map(|(_, r)| r)
    }
}

/// Puts a node at `r` (logical px) with absolute position, changing only what differs.
pub fn put(node: &mut Node, r: Rect) {
    let (left, top, width, height) = (px(r.min.x), px(r.min.y), px(r.width()), px(r.height()));
    if node.position_type != PositionType::Absolute {
        node.position_type = PositionType::Absolute;
    }
    if node.left != left || node.top != top || node.width != width || node.height != height {
        node.left = left;
        node.top = top;
        node.width = width;
        node.height = height;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(obstacles: &[[f32; 4]]) -> Stage {
        Stage {
            window: Vec2::new(1080.0, 1920.0),
            obstacles: obstacles.iter().map(|&[x0, y0, x1, y1]| Rect::new(x0, y0, x1, y1)).collect(),
        }
    }

    #[test]
    fn the_largest_box_between_the_bands_clear_of_every_panel() {
        // The label at the top, the prompt and the strip at the bottom of a portrait screen.
        let s = stage(&[[0.0, 0.0, 700.0, 120.0], [50.0, 1500.0, 1030.0, 1650.0], [0.0, 1744.0, 1080.0, 1920.0]]);
        let (r, h) = s.fit(|h| Vec2::new(h * 4.0 / 3.0, h)).unwrap();
        assert!((r.height() - h).abs() < 1e-3, "{r:?} made at {h}");
        // As wide as the screen allows: 1080 - 2 x 16.
        assert!((r.width() - 1048.0).abs() < 1.0, "{r:?}");
        assert!(r.min.y >= 120.0 + MARGIN - 0.01 && r.max.y <= 1500.0 - MARGIN + 0.01, "{r:?}");
        for o in &s.obstacles {
            assert!(o.intersect(r).is_empty(), "{r:?} on {o:?}");
        }
    }

    #[test]
    fn a_box_goes_beside_a_corner_panel_when_that_leaves_it_larger() {
        // Landscape: a QR card at the bottom left; the painting moves right of it, not above it.
        let s = Stage { window: Vec2::new(1920.0, 1080.0), obstacles: vec![Rect::new(28.0, 600.0, 260.0, 890.0)] };
        let (r, h) = s.fit(|h| Vec2::new(h * 4.0 / 3.0, h)).unwrap();
        assert!((r.height() - h).abs() < 1e-3, "{r:?} made at {h}");
        assert!(r.height() > 1000.0 && r.min.x >= 260.0 + MARGIN - 0.01, "{r:?}");
    }

    #[test]
    fn no_room_is_none() {
        let s = stage(&[[0.0, 0.0, 1080.0, 1920.0]]);
        assert_eq!(s.fit(Vec2::splat), None);
    }
}
