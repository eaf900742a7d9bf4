//! Editing the running scene file from the console. Every save goes through the same check as
//! a hot reload ([`Scene::load`], style images included) on a copy beside the file; a rejected
//! scene writes nothing and says file:line:col and the fix. The file before each save is kept
//! (the last [`KEEP_VERSIONS`]) and can be restored. The display's scene watcher picks the new
//! file up within a second, as it does for an edit over SSH.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};

use crate::config::{ConfigError, parse_ron};
use crate::engine::StyleParams;
use crate::scene::Scene;

pub const KEEP_VERSIONS: usize = 20;

pub struct SceneDesk {
    /// The running scene's file.
    pub path: PathBuf,
    /// Relative style paths start here.
    pub root: PathBuf,
    pub base: StyleParams,
    /// Earlier versions of the file, newest last by name.
    pub versions_dir: PathBuf,
    /// Held from reading the scene to writing it: two saves never interleave.
    saving: Mutex<()>,
}

/// What a page's forms were made from: the file's content, hashed. A form of an older
/// version (another tab changed the scene since) is refused rather than saved over it.
pub fn version_of(text: &str) -> String {
    crate::ids::hex(&Sha256::digest(text.as_bytes())[..8])
}

#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// The file name (a time stamp), as restore takes it.
    pub name: String,
    pub saved: SystemTime,
    pub bytes: u64,
}

/// A version's name as the server writes it: `YYYYmmdd-HHMMSS-mmm.ron`, nothing else (no path).
pub fn well_formed_version(name: &str) -> bool {
    name.len() == 23
        && name.ends_with(".ron")
        && name[..19].bytes().enumerate().all(|(i, b)| if i == 8 || i == 15 { b == b'-' } else { b.is_ascii_digit() })
}

impl SceneDesk {
    pub fn new(path: PathBuf, root: PathBuf, base: StyleParams, state_dir: &Path) -> SceneDesk {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scene".into());
        SceneDesk {
            path,
            root,
            base,
            versions_dir: state_dir.join("scene-versions").join(stem),
            saving: Mutex::new(()),
        }
    }

    /// Taken by every change (read, check, write) so that saves run one at a time.
    pub fn serialised(&self) -> MutexGuard<'_, ()> {
        self.saving.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn text(&self) -> Result<String, ConfigError> {
        std::fs::read_to_string(&self.path).map_err(|e| {
            ConfigError::whole_file(&self.path, format!("cannot read: {e}"), "check the scene file on the kiosk")
        })
    }

    pub fn scene(&self) -> Result<Scene, ConfigError> {
        parse_ron(&self.text()?, &self.path)
    }

    /// Checks `text` as the display would load it and, if it plays, keeps the current file as a
    /// version and puts `text` in its place. Nothing is written when it is refused.
    pub fn save_text(&self, text: &str) -> Result<(), ConfigError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Beside the file, so the check and the rename see the same folder.
        let candidate = dir.join(format!(".{name}.console-edit"));
        let write = |p: &Path, t: &str| {
            std::fs::write(p, t).map_err(|e| {
                ConfigError::whole_file(p, format!("cannot write: {e}"), "check that the kiosk user may write there")
            })
        };
        write(&candidate, text)?;
        if let Err(mut e) = Scene::load(&candidate, &self.root, &self.base) {
            let _ = std::fs::remove_file(&candidate);
            // The staff member edited the scene file: name it, not the copy.
            e.path = self.path.clone();
            return Err(e);
        }
        if let Err(e) = self.keep_version() {
            let _ = std::fs::remove_file(&candidate);
            return Err(e);
        }
        std::fs::rename(&candidate, &self.path).map_err(|e| {
            ConfigError::whole_file(
                &self.path,
                format!("cannot replace: {e}"),
                "check that the kiosk user may write there",
            )
        })
    }

    /// Saves `scene` (written out as RON; comments of the old file stay in its version).
    pub fn save_scene(&self, scene: &Scene) -> Result<(), ConfigError> {
        // Options without `Some(..)`, as people write them and as the display reads them.
        let pretty = ron::ser::PrettyConfig::new()
            .struct_names(false)
            .indentor("    ".to_string())
            .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
        let text = ron::ser::to_string_pretty(scene, pretty).map_err(|e| {
            ConfigError::whole_file(&self.path, format!("cannot write the scene out: {e}"), "report this as a bug")
        })?;
        self.save_text(&format!("// Saved from the curator console.\n{text}\n"))
    }

    fn keep_version(&self) -> Result<(), ConfigError> {
        let fail = |e: std::io::Error| {
            ConfigError::whole_file(
                &self.versions_dir,
                format!("cannot keep the old version: {e}"),
                "check the state directory",
            )
        };
        std::fs::create_dir_all(&self.versions_dir).map_err(fail)?;
        let mut name = chrono::Local::now().format("%Y%m%d-%H%M%S-%3f.ron").to_string();
        // Two saves in one millisecond: the next free name.
        while self.versions_dir.join(&name).exists() {
            std::thread::sleep(std::time::Duration::from_millis(1));
            name = chrono::Local::now().format("%Y%m%d-%H%M%S-%3f.ron").to_string();
        }
        std::fs::copy(&self.path, self.versions_dir.join(&name)).map_err(fail)?;
        let versions = self.versions();
        for old in versions.iter().take(versions.len().saturating_sub(KEEP_VERSIONS)) {
            let _ = std::fs::remove_file(self.versions_dir.join(&old.name));
        }
        Ok(())
    }

    /// The kept versions, oldest first.
    pub fn versions(&self) -> Vec<Version> {
        let mut v: Vec<Version> = std::fs::read_dir(&self.versions_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let meta = e.metadata().ok()?;
                        well_formed_version(&name).then(|| Version {
                            name,
                            saved: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                            bytes: meta.len(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Puts version `name` back (checked like any save: its style images may be gone).
    pub fn restore(&self, name: &str) -> Result<(), ConfigError> {
        if !well_formed_version(name) {
            return Err(ConfigError::whole_file(
                &self.versions_dir,
                format!("`{}` is not a version of this scene", name.escape_debug()),
                "pick a version from the list",
            ));
        }
        let text = std::fs::read_to_string(self.versions_dir.join(name)).map_err(|e| {
            ConfigError::whole_file(&self.versions_dir.join(name), format!("cannot read: {e}"), "pick another version")
        })?;
        self.save_text(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_are_time_stamps_and_nothing_else() {
        assert!(well_formed_version("20261201-204455-123.ron"));
        for bad in ["../default.ron", "20261201-204455-123.ron\0", "2026120a-204455-123.ron", "/etc/passwd", ""] {
            assert!(!well_formed_version(bad), "{bad:?}");
        }
    }
}
