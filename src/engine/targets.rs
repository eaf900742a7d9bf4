//! What the painting is pulled towards at one size: the content features of the photo and
//! the (blended) style Grams of the artworks, from one layer plan. Style Grams are cached
//! per artwork and size: they belong to the artwork, not to the visitor.

use std::collections::HashMap;

use image::RgbImage;
use tch::{Device, Kind, Tensor};

use super::EngineError;
use super::faces::{FaceBox, FaceMaps, FaceWeights};
use super::imageio::{fit_long_edge, resize, to_tensor};
use super::live::TemporalTarget;
use super::loss::gram;
use super::params::{StyleImage, StyleParams};
use super::vgg::{Vgg, layer_index};

/// Which VGG layers one forward pass must tap, and what each tap is for.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerPlan {
    /// Union of content and style layers: one forward pass serves both.
    pub taps: Vec<usize>,
    /// (position in `taps`, weight)
    pub content: Vec<(usize, f64)>,
    pub style: Vec<(usize, f64)>,
    pub style_layers: Vec<usize>,
    pub content_layers: Vec<usize>,
}

impl LayerPlan {
    pub fn new(vgg: &Vgg, params: &StyleParams) -> Result<LayerPlan, EngineError> {
        let mut taps: Vec<usize> = Vec::new();
        let mut tap = |i: usize| match taps.iter().position(|&t| t == i) {
            Some(p) => p,
            None => {
                taps.push(i);
                taps.len() - 1
            }
        };
        let mut content = Vec::new();
        let mut content_layers = Vec::new();
        for l in &params.content_layers {
            let i = layer_index(vgg.arch(), &l.0)?;
            content.push((tap(i), l.1));
            content_layers.push(i);
        }
        let mut style = Vec::new();
        let mut style_layers = Vec::new();
        for l in &params.style_layers {
            let i = layer_index(vgg.arch(), &l.0)?;
            style.push((tap(i), l.1));
            style_layers.push(i);
        }
        Ok(LayerPlan { taps, content, style, style_layers, content_layers })
    }
}

/// The targets at one painting size.
pub struct Targets {
    pub width: u32,
    pub height: u32,
    pub content_rgb: Tensor,
    pub content_features: Vec<Tensor>,
    /// Blended style Grams, one per style layer, scaled to this size's M.
    pub style_grams: Vec<Tensor>,
    /// Live video: the previous painting and where it still holds (set by the painter).
    pub temporal: Option<TemporalTarget>,
    /// Gains inside the visitors' faces (None: no faces, or gains of 1).
    pub faces: Option<FaceMaps>,
    /// Changes whenever any target tensor does (a CUDA graph copies them in only then).
    pub version: u64,
}

/// A version number no other `Targets` has had in this process.
fn next_version() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Targets {
    pub fn set_temporal(&mut self, temporal: Option<TemporalTarget>) {
        self.temporal = temporal;
        self.version = next_version();
    }
}

/// Unblended Grams per (style id, style image size): computed once, reused across captures
/// and levels. Cleared when the style layers change.
#[derive(Default)]
pub struct GramCache(HashMap<(String, u32, u32), Vec<Tensor>>);

impl GramCache {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn clear(&mut self) {
        self.0.clear();
    }

    fn grams(
        &mut self,
        vgg: &Vgg,
        plan: &LayerPlan,
        style: &StyleImage,
        w: u32,
        h: u32,
        device: Device,
    ) -> Vec<Tensor> {
        let key = (style.id.clone(), w, h);
        if let Some(g) = self.0.get(&key) {
            return g.iter().map(|t| t.shallow_clone()).collect();
        }
        let grams: Vec<Tensor> = tch::no_grad(|| {
            let input = vgg.preprocess(&to_tensor(&resize(&style.image, w, h), device));
            let feats = vgg.features(&input, &plan.style_layers);
            feats.iter().map(|f| gram(&f.to_kind(Kind::Float))).collect()
        });
        self.0.insert(key, grams.iter().map(|t| t.shallow_clone()).collect());
        grams
    }
}

/// The photo to paint and the faces in it.
pub struct Photo<'a> {
    pub image: &'a RgbImage,
    pub faces: &'a [FaceBox],
}

/// Builds the targets for painting `photo` at `w` x `h` in the blend of `styles`.
#[allow(clippy::too_many_arguments)] // the inputs of one pure computation
pub fn build(
    vgg: &Vgg,
    plan: &LayerPlan,
    cache: &mut GramCache,
    photo: Photo,
    styles: &[StyleImage],
    (w, h): (u32, u32),
    params: &StyleParams,
    device: Device,
) -> Result<Targets, EngineError> {
    let (content, style_scale) = (photo.image, params.style_scale);
    if styles.is_empty() && !plan.style.is_empty() {
        return Err(EngineError::NotReady("no style image"));
    }
    let content_rgb = to_tensor(&resize(content, w, h), device);
    let content_features = tch::no_grad(|| {
        let f = vgg.features(&vgg.preprocess(&content_rgb), &plan.content_layers);
        f.into_iter().map(|t| t.to_kind(Kind::Float)).collect::<Vec<_>>()
    });
    // M of each style layer for the painting at this size.
    let style_long = ((w.max(h) as f64) * style_scale).round() as u32;
    let m_painting: Vec<i64> = plan.style_layers.iter().map(|&l| vgg.positions(l, h as i64, w as i64)).collect();
    let total_weight: f64 = styles.iter().map(|s| s.weight.max(0.0)).sum();
    let mut blended: Vec<Option<Tensor>> = (0..plan.style_layers.len()).map(|_| None).collect();
    for style in styles.iter().filter(|s| s.weight > 0.0) {
        let (sw, sh) = fit_long_edge(style.image.width(), style.image.height(), style_long.max(32));
        let m_style: Vec<i64> = plan.style_layers.iter().map(|&l| vgg.positions(l, sh as i64, sw as i64)).collect();
        let grams = cache.grams(vgg, plan, style, sw, sh, device);
        for (l, g) in grams.into_iter().enumerate() {
            // Rescale to the painting's M so E_l compares like with like when the style
            // image has another size; blending Grams with normalised weights has the same
            // gradient as the weighted sum of per-style losses.
            let scaled = g * (m_painting[l] as f64 / m_style[l] as f64) * (style.weight / total_weight);
            blended[l] = Some(match blended[l].take() {
                Some(acc) => acc + scaled,
                None => scaled,
            });
        }
    }
    let style_grams = blended.into_iter().map(|g| g.expect("at least one weighted style")).collect();
    Ok(Targets {
        width: w,
        height: h,
        content_rgb,
        content_features,
        style_grams,
        temporal: None,
        faces: face_maps(vgg, plan, photo.faces, &params.faces, (w, h), device),
        version: next_version(),
    })
}

/// The face gain maps on each tapped layer's grid (None: no face, or gains of 1).
fn face_maps(
    vgg: &Vgg,
    plan: &LayerPlan,
    faces: &[FaceBox],
    weights: &FaceWeights,
    (w, h): (u32, u32),
    device: Device,
) -> Option<FaceMaps> {
    if faces.is_empty() || weights.is_plain() {
        return None;
    }
    let grids = |layers: &[usize]| -> Vec<(usize, usize)> {
        layers
            .iter()
            .map(|&l| {
                let (gw, gh) = vgg.grid(l, h as i64, w as i64);
                (gw.max(1) as usize, gh.max(1) as usize)
            })
            .collect()
    };
    Some(FaceMaps::new(faces, weights, &grids(&plan.content_layers), &grids(&plan.style_layers), device))
}
