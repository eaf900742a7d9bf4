//! Where the project's files are: relative paths in config and scenes resolve against the
//! project root, so the installation behaves the same whatever directory it starts in.
//!
//! Run from a source tree, the root is that tree. Installed from the Debian package
//! (`/usr/bin/gallery-painter`, its files in `/usr/share/gallery-painter`, its config in
//! `/etc/gallery-painter`), the root is a folder of the user's state, made at the first start:
//! `assets` and `config` there are links to the package's files and to `/etc`, `scenes` a
//! copy the curator may edit; everything the kiosk writes (the console's state, artworks,
//! the voice cache) goes there too. `$GALLERY_ROOT` overrides both.

use std::path::{Path, PathBuf};

/// The installed package's read-only files, next to the binary (`<prefix>/share/gallery-painter`).
pub fn installed_data() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    let prefix = exe.parent()?.parent()?;
    let data = prefix.join("share").join("gallery-painter");
    (exe.parent()?.file_name()? == "bin" && data.join("assets").is_dir()).then_some(data)
}

/// The package's config folder.
pub const INSTALLED_CONFIG: &str = "/etc/gallery-painter";

/// The directory holding `assets/`: `$GALLERY_ROOT`, else the working directory if it has
/// one, else the nearest source tree above the executable, else (installed) the state folder
/// of [`installed_root`].
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
    if let Some(data) = installed_data() {
        static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        return ROOT.get_or_init(|| installed_root(&data, Path::new(INSTALLED_CONFIG))).clone();
    }
    cwd
}

/// Where an installed kiosk or painter keeps what it writes: systemd's `$STATE_DIRECTORY`,
/// else `$XDG_STATE_HOME/gallery-painter`, else `~/.local/state/gallery-painter`.
pub fn state_folder() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = env("STATE_DIRECTORY") {
        // systemd may list several, separated by colons: the first is this service's.
        let first = dir.to_string_lossy().split(':').next().unwrap_or_default().to_string();
        return PathBuf::from(first);
    }
    if let Some(dir) = env("XDG_STATE_HOME") {
        return dir.join("gallery-painter");
    }
    match env("HOME") {
        Some(home) => home.join(".local").join("state").join("gallery-painter"),
        None => std::env::temp_dir().join(format!("gallery-painter-{}", unsafe { libc::getuid() })),
    }
}

/// The installed root, made (or brought up to date after an upgrade) in [`state_folder`]:
/// links to the package's `assets` and to `config` (`/etc/gallery-painter`), a copy of the
/// package's scenes where there is none yet (an edited scene is never overwritten). A
/// problem is logged and the package's folder used as it is (read-only).
pub fn installed_root(data: &Path, config: &Path) -> PathBuf {
    let root = state_folder();
    let made = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(&root)?;
        let config = if config.is_dir() { config.to_path_buf() } else { data.join("config") };
        for (name, target) in [("assets", data.join("assets")), ("config", config)] {
            let link = root.join(name);
            if std::fs::read_link(&link).ok().as_deref() != Some(target.as_path()) {
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&target, &link)?;
            }
        }
        let scenes = root.join("scenes");
        std::fs::create_dir_all(&scenes)?;
        for entry in std::fs::read_dir(data.join("scenes"))?.flatten() {
            let to = scenes.join(entry.file_name());
            if !to.exists() {
                std::fs::copy(entry.path(), &to)?;
            }
        }
        Ok(())
    })();
    match made {
        Ok(()) => root,
        Err(e) => {
            tracing::error!(
                "cannot prepare {} for the installed kiosk ({e}); using {} read-only\n  fix: check that the user may write there, or set GALLERY_ROOT",
                root.display(),
                data.display()
            );
            data.to_path_buf()
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_root_links_the_packages_files_copies_its_scenes_once_and_follows_an_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let (data, etc, state) = (dir.path().join("share"), dir.path().join("etc"), dir.path().join("state"));
        for d in [data.join("assets"), data.join("scenes"), etc.clone()] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(data.join("scenes/default.ron"), "shipped").unwrap();
        // SAFETY: this test alone reads the variable, before and after setting it.
        unsafe { std::env::set_var("STATE_DIRECTORY", &state) };
        let root = installed_root(&data, &etc);
        assert_eq!(root, state);
        assert_eq!(std::fs::read_link(root.join("assets")).unwrap(), data.join("assets"));
        assert_eq!(std::fs::read_link(root.join("config")).unwrap(), etc);
        // The curator edits the scene; an upgrade ships another one: the edit stays.
        std::fs::write(root.join("scenes/default.ron"), "edited").unwrap();
        std::fs::write(data.join("scenes/default.ron"), "shipped 2").unwrap();
        std::fs::write(data.join("scenes/new.ron"), "new").unwrap();
        installed_root(&data, &etc);
        assert_eq!(std::fs::read_to_string(root.join("scenes/default.ron")).unwrap(), "edited");
        assert_eq!(std::fs::read_to_string(root.join("scenes/new.ron")).unwrap(), "new");
        unsafe { std::env::remove_var("STATE_DIRECTORY") };
    }
}
