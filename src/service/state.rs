//! What survives a restart (a crash, the watchdog, a power cut): the artwork on show and how
//! long it has been on, a visitor's pick and how long it still holds, and the counters.
//! Written atomically (a new file renamed over the old: a crash leaves the old or the new,
//! and a symlink at the path is replaced, never followed); restored at start, and ignored
//! with a warning when it is corrupt or belongs to another scene.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SavedState {
    pub version: u32,
    /// The scene it belongs to (its path and artworks): another scene ignores it.
    pub scene_fingerprint: u64,
    pub artwork_index: usize,
    /// Seconds the artwork had been on show.
    pub artwork_elapsed_s: f64,
    /// A visitor's pick still holds the rotation for this many seconds.
    pub pick_remaining_s: Option<f64>,
    /// Totals since the installation first ran.
    pub visitors: u64,
    pub paintings_finished: u64,
    pub saved_unix_s: f64,
}

/// FNV-1a over the scene's path and artwork titles: stable across builds and runs.
pub fn scene_fingerprint(scene_path: &str, titles: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in std::iter::once(scene_path).chain(titles.iter().map(String::as_str)) {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

pub fn save(path: &Path, state: &SavedState) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let text = ron::ser::to_string_pretty(state, ron::ser::PrettyConfig::default()).map_err(std::io::Error::other)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A saved state that can be used: all of it when it belongs to this scene; only the
/// totals when the scene changed since (another file, artworks added or renamed), since
/// lifetime counts of visitors and paintings belong to the installation, not to a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub state: SavedState,
    pub same_scene: bool,
}

/// `Ok(None)`: no state yet. `Err(why)`: there is one, but it cannot be used at all.
pub fn load(path: &Path, fingerprint: u64, artworks: usize) -> Result<Option<Restored>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let state: SavedState = ron::from_str(&text).map_err(|e| format!("{} is corrupt ({e})", path.display()))?;
    if state.version != VERSION {
        return Err(format!("{} is from another version ({})", path.display(), state.version));
    }
    let same_scene = state.scene_fingerprint == fingerprint && state.artwork_index < artworks;
    Ok(Some(Restored { state, same_scene }))
}
