//! Scenes (`scenes/*.ron`): a playlist of artworks with captions, durations, transitions
//! and engine overrides, played in order or shuffled, optionally only in opening hours.

mod hours;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use hours::OpeningHours;

use crate::config::{ConfigError, load_ron};
use crate::engine::StyleParams;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    pub name: String,
    #[serde(default)]
    pub order: Order,
    /// Outside these hours the installation shows a closed screen and the engine rests.
    #[serde(default)]
    pub hours: Option<OpeningHours>,
    pub entries: Vec<SceneEntry>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Order {
    #[default]
    InOrder,
    /// A new random order each round, never the same artwork twice in a row.
    Shuffle,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneEntry {
    /// One or more style images with blend weights.
    pub styles: Vec<StyleRef>,
    pub title: String,
    #[serde(default)]
    pub artist: String,
    #[serde(default)]
    pub year: String,
    /// Credit line under the label, e.g. "Public domain, courtesy of ...".
    #[serde(default)]
    pub credit: String,
    /// Title and credit in other languages, by language tag: `{"fr": (title: "...")}`.
    /// A language without an entry here shows the title and credit above.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, EntryTranslation>,
    /// Seconds this artwork stays before the rotation moves on.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
    #[serde(default)]
    pub transition: Transition,
    #[serde(default)]
    pub overrides: StyleOverrides,
}

/// An entry's title and credit in one language.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntryTranslation {
    pub title: Option<String>,
    pub credit: Option<String>,
}

fn default_duration() -> f64 {
    60.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleRef {
    pub path: PathBuf,
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Transition {
    /// Fade from the old painting to the first strokes of the new one over `ms`.
    Crossfade {
        ms: u32,
    },
    Cut,
}

impl Default for Transition {
    fn default() -> Self {
        Transition::Crossfade { ms: 1200 }
    }
}

/// Per-artwork changes to the engine defaults; unset fields keep the defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StyleOverrides {
    pub size: Option<u32>,
    pub iterations: Option<u32>,
    pub levels: Option<u32>,
    pub content_weight: Option<f64>,
    pub style_weight: Option<f64>,
    pub tv_weight: Option<f64>,
    pub preserve_colors: Option<bool>,
    pub style_scale: Option<f64>,
    /// How this artwork treats faces, e.g. `faces: (content_gain: 6.0, style_gain: 0.3)`.
    pub faces: Option<crate::engine::FaceWeights>,
}

impl StyleOverrides {
    pub fn apply(&self, base: &StyleParams) -> StyleParams {
        let mut p = base.clone();
        if let Some(v) = self.size {
            p.size = v
        }
        if let Some(v) = self.iterations {
            p.iterations = v
        }
        if let Some(v) = self.levels {
            p.levels = v
        }
        if let Some(v) = self.content_weight {
            p.content_weight = v
        }
        if let Some(v) = self.style_weight {
            p.style_weight = v
        }
        if let Some(v) = self.tv_weight {
            p.tv_weight = v
        }
        if let Some(v) = self.preserve_colors {
            p.preserve_colors = v
        }
        if let Some(v) = self.style_scale {
            p.style_scale = v
        }
        if let Some(v) = self.faces {
            p.faces = v
        }
        p
    }
}

impl SceneEntry {
    /// The title in `lang`, or the scene's own when it has no translation.
    pub fn title_in(&self, lang: &str) -> &str {
        self.translations.get(lang).and_then(|t| t.title.as_deref()).unwrap_or(&self.title)
    }

    pub fn credit_in(&self, lang: &str) -> &str {
        self.translations.get(lang).and_then(|t| t.credit.as_deref()).unwrap_or(&self.credit)
    }

    /// The label as the technician's status shows it (the display localises its own).
    pub fn caption(&self) -> String {
        match (self.artist.is_empty(), self.year.is_empty()) {
            (true, _) => self.title.clone(),
            (false, true) => format!("{} - {}", self.title, self.artist),
            (false, false) => format!("{} - {}, {}", self.title, self.artist, self.year),
        }
    }
}

impl Scene {
    /// Each entry's artwork id, which does not depend on its place in the list: its title and
    /// style images, hashed, and which of identical entries it is. The painting of an entry
    /// is matched to it by this id (titles need not be unique), and the console's edits and
    /// moves name entries by it.
    pub fn entry_ids(&self) -> Vec<String> {
        use sha2::{Digest, Sha256};
        let mut seen = std::collections::HashMap::<String, usize>::new();
        self.entries
            .iter()
            .map(|e| {
                let mut h = Sha256::new();
                h.update(e.title.as_bytes());
                for s in &e.styles {
                    h.update([0]);
                    h.update(s.path.to_string_lossy().as_bytes());
                }
                let base = crate::ids::hex(&h.finalize()[..6]);
                let n = seen.entry(base.clone()).or_default();
                *n += 1;
                format!("{base}-{n}")
            })
            .collect()
    }

    /// Loads a scene and checks that it can be played: style files exist, numbers make sense.
    /// `root` resolves relative style paths.
    pub fn load(path: &Path, root: &Path, base: &StyleParams) -> Result<Scene, ConfigError> {
        let scene: Scene = load_ron(path)?;
        scene.validate(path, root, base)?;
        Ok(scene)
    }

    pub fn validate(&self, path: &Path, root: &Path, base: &StyleParams) -> Result<(), ConfigError> {
        self.check(path, root, base, false).map(|_| ())
    }

    /// Loads a scene to play, as the kiosk does at start: an entry whose style image is
    /// missing or does not decode is refused on its own (returned, by index, with the file,
    /// line and fix) and the rest is shown; anything else wrong, or no entry left, refuses
    /// the scene.
    pub fn load_playable(
        path: &Path,
        root: &Path,
        base: &StyleParams,
    ) -> Result<(Scene, Vec<(usize, ConfigError)>), ConfigError> {
        let scene: Scene = load_ron(path)?;
        let refused = scene.check(path, root, base, true)?;
        Ok((scene, refused))
    }

    /// `entry_by_entry`: an unusable style image refuses its entry, not the scene.
    fn check(
        &self,
        path: &Path,
        root: &Path,
        base: &StyleParams,
        entry_by_entry: bool,
    ) -> Result<Vec<(usize, ConfigError)>, ConfigError> {
        let mut refused: Vec<(usize, ConfigError)> = Vec::new();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // Point at the line that mentions the offending value, when we can find it.
        let locate = |needle: &str| -> (usize, usize) {
            text.lines().enumerate().find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1))).unwrap_or((0, 0))
        };
        let problem = |needle: &str, message: String, fix: String| {
            let (line, col) = locate(needle);
            ConfigError { path: path.to_path_buf(), line, col, message, fix }
        };
        let err = |needle: &str, message: String, fix: String| Err(problem(needle, message, fix));
        if self.entries.is_empty() {
            return err(
                "entries",
                "the scene has no entries".into(),
                "add at least one entry with a style image".into(),
            );
        }
        for (i, e) in self.entries.iter().enumerate() {
            if let Some(tag) = e.translations.keys().find(|t| t.parse::<unic_langid::LanguageIdentifier>().is_err()) {
                return err(
                    &format!("\"{tag}\""),
                    format!("entry {} ({}): `{tag}` is not a language tag", i + 1, e.title),
                    "key translations by a tag such as \"fr\", \"de\" or \"es\"".into(),
                );
            }
            if e.styles.is_empty() {
                return err(
                    &e.title,
                    format!("entry {} ({}) has no styles", i + 1, e.title),
                    "add styles: [(path: \"assets/styles/...png\")]".into(),
                );
            }
            for s in &e.styles {
                let full = crate::paths::resolve(root, &s.path);
                let image = if !full.is_file() {
                    Err(problem(
                        &s.path.display().to_string(),
                        format!("style image {} does not exist", full.display()),
                        "fix the path (relative paths start at the project folder) or add the image".into(),
                    ))
                } else if let Err(why) = check_style_image(&full) {
                    Err(problem(
                        &s.path.display().to_string(),
                        format!("style image {} cannot be used: {why}", full.display()),
                        "replace it with a PNG or JPEG that opens in an image viewer (8 to 8192 px a side), or remove the entry".into(),
                    ))
                } else {
                    Ok(())
                };
                match image {
                    Err(e) if entry_by_entry => {
                        if refused.last().is_none_or(|(j, _)| *j != i) {
                            refused.push((i, e));
                        }
                    }
                    Err(e) => return Err(e),
                    Ok(()) => {}
                }
                if !(s.weight > 0.0 && s.weight.is_finite()) {
                    return err(
                        &s.path.display().to_string(),
                        format!("style weight {} must be > 0", s.weight),
                        "use e.g. weight: 1.0".into(),
                    );
                }
            }
            if !(e.duration_s >= 1.0 && e.duration_s.is_finite()) {
                return err(
                    "duration_s",
                    format!("entry {} ({}): duration_s {} is below 1 second", i + 1, e.title, e.duration_s),
                    "use e.g. duration_s: 60.0".into(),
                );
            }
            if let Err(m) = e.overrides.apply(base).validate() {
                return err(
                    "overrides",
                    format!("entry {} ({}): overrides give invalid parameters: {m}", i + 1, e.title),
                    "correct the override".into(),
                );
            }
        }
        if let Some(h) = &self.hours
            && let Err(m) = h.validate()
        {
            return err("hours", m, "write times as \"HH:MM\", e.g. open: \"09:30\", close: \"18:00\"".into());
        }
        if refused.len() == self.entries.len() {
            // Nothing would be left to show.
            return Err(refused.swap_remove(0).1);
        }
        Ok(refused)
    }
}

/// Decodes a style image once per version of the file (modification time and length): a
/// truncated or mislabelled file fails here, at start and on every hot reload, not later in
/// the worker while a visitor waits. Versions that decoded are remembered, so a reload after
/// a title edit does not decode every artwork again.
fn check_style_image(path: &Path) -> Result<(), String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static DECODED: OnceLock<Mutex<HashMap<PathBuf, crate::paths::FileVersion>>> = OnceLock::new();
    let Some(before) = crate::paths::file_version(path) else { return Err("cannot read its size and date".into()) };
    let decoded = DECODED.get_or_init(Default::default);
    if decoded.lock().expect("decoded styles lock").get(path) == Some(&before) {
        return Ok(());
    }
    crate::engine::imageio::load_rgb(path).map_err(|e| match e {
        crate::engine::EngineError::Image { reason, .. } => reason,
        e => e.to_string(),
    })?;
    decoded.lock().expect("decoded styles lock").insert(path.to_path_buf(), before);
    Ok(())
}
