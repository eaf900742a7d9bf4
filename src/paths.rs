//! Where the project's files are: relative paths in config and scenes resolve against the
//! project root, so the installation behaves the same whatever directory it starts in.

use std::path::{Path, PathBuf};

/// The directory holding `assets/`: `$GALLERY_ROOT`, else the working directory if it has
/// one, else the nearest ancestor of the executable that has one.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("GALLERY_ROOT") {
        return PathBuf::from(root);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if cwd.join("assets").is_dir() {
        return cwd;
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            if dir.join("assets").is_dir() && dir.join("Cargo.toml").is_file() {
                return dir.to_path_buf();
            }
        }
    }
    cwd
}

/// `path` if absolute, else `base/path`.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

/// When a file was last changed (None: unreadable): a file replaced under the same name is
/// noticed by it.
pub fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What identifies one version of a file on disk: its modification time and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileVersion {
    modified: Option<std::time::SystemTime>,
    len: u64,
}

pub fn file_version(path: &Path) -> Option<FileVersion> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileVersion { modified: m.modified().ok(), len: m.len() })
}

pub const DEFAULT_WEIGHTS: &str = "assets/models/vgg16-caffe.safetensors";
