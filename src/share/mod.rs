//! Take it home: each finished painting can be offered to its visitor through a QR code. The
//! code opens a small page on the **guest listener** ([`server`]), a server of its own that
//! is separate from every staff interface and answers nothing but `/p/<token>` and
//! `/p/<token>/painting.png`.
//!
//! What is kept, and for how long: the painting as a PNG file (0600) in a private folder
//! (0700), its making-of beside it (an animated PNG, [`making_of`]), and in memory its token,
//! label and expiry time. After `expire_min` all of it is deleted, and all of it when the
//! kiosk stops (SIGTERM included: [`ShareStore::close`]); a folder a killed kiosk left behind
//! is deleted when the next one starts. A
//! token is 128 random bits, there is no listing of any kind, and wrong tokens from one
//! address are answered 429 once they pass `misses_per_minute`. No Bevy here.

pub mod making_of;
pub mod page;
pub mod server;

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use crate::config::ShareConfig;
use image::RgbImage;

use crate::i18n::Catalog;
use crate::ids::new_token;

/// The artwork a painting was made in, as the page's label shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShareLabel {
    pub title: String,
    pub artist: String,
    pub year: String,
    pub credit: String,
}

/// A painting just offered: what the QR code carries.
#[derive(Clone, Debug)]
pub struct Offered {
    pub token: String,
    pub url: String,
    pub expires: SystemTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The PNG, once written (it is encoded off the display thread).
    pub file: Option<PathBuf>,
    /// The making-of (APNG), once written.
    pub making_of: Option<PathBuf>,
    /// Frames of the making-of being made (0: none, too few snapshots).
    pub making_of_frames: usize,
    pub label: ShareLabel,
    pub lang: String,
    pub expires_at: Instant,
    pub expires: SystemTime,
    pub offered_at: Instant,
}

/// What a token leads to.
pub(crate) enum Lookup {
    Found(Box<Entry>),
    /// It existed and has expired: the page says so (410).
    Gone,
    Unknown,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Expired tokens, kept a day so that a late scan reads "deleted" rather than "no such".
    gone: HashMap<String, Instant>,
    /// Wrong links per address in the last minute.
    misses: HashMap<IpAddr, VecDeque<Instant>>,
}

/// The paintings on offer. Shared by the display (which offers) and the guest listener.
pub struct ShareStore {
    config: ShareConfig,
    folder: PathBuf,
    /// Removes the private folder when the store goes (None for a configured folder).
    _temporary: Option<tempfile::TempDir>,
    pub(crate) texts: Arc<Catalog>,
    inner: Mutex<Inner>,
}

const GONE_KEPT: Duration = Duration::from_secs(24 * 3600);
/// A painting smaller than this (a CPU kiosk paints 256 px) is enlarged to it for the phone
/// and for printing at home; a GPU kiosk's 1536 px painting is offered as it is.
pub const TAKE_HOME_EDGE: u32 = 1024;

/// The painting as it is taken home: enlarged (Catmull-Rom) until its long edge is
/// [`TAKE_HOME_EDGE`], never shrunk.
pub fn for_take_home(painting: &RgbImage) -> Option<RgbImage> {
    let long = painting.width().max(painting.height());
    (long > 0 && long < TAKE_HOME_EDGE).then(|| {
        let scale = TAKE_HOME_EDGE as f64 / long as f64;
        let (w, h) =
            ((painting.width() as f64 * scale).round() as u32, (painting.height() as f64 * scale).round() as u32);
        image::imageops::resize(painting, w.max(1), h.max(1), image::imageops::FilterType::CatmullRom)
    })
}
const MISS_WINDOW: Duration = Duration::from_secs(60);
/// Addresses whose misses are remembered at most (a flood of addresses cannot grow memory).
const MAX_TRACKED_ADDRESSES: usize = 10_000;

/// A token as the server accepts it: exactly 32 lowercase hex digits.
pub fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn private_folder(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// Writes a new file readable by this user only, whatever the umask.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

/// The temporary folders' names: the kiosk's process id in them, so that the next kiosk can
/// tell one left by a kiosk that was killed from one in use.
const TEMPORARY_PREFIX: &str = "gallery-painter-share-";

/// Deletes the take-home folders of kiosks that no longer run (killed before they could).
fn remove_left_behind(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(TEMPORARY_PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
        let Ok(pid) = pid.parse::<libc::pid_t>() else { continue };
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && std::fs::remove_dir_all(entry.path()).is_ok() {
            tracing::info!(
                "share: deleted {} left by a kiosk that was stopped before it could",
                entry.path().display()
            );
        }
    }
}

impl ShareStore {
    /// Prepares the folder: a configured one is emptied of the paintings left by an earlier run
    /// (their tokens died with it), a private temporary one is made otherwise.
    pub fn new(config: ShareConfig, root: &Path, texts: Arc<Catalog>) -> std::io::Result<ShareStore> {
        let (folder, temporary) = match &config.folder {
            Some(f) => {
                let folder = crate::paths::resolve(root, f);
                private_folder(&folder)?;
                let mut removed = 0;
                for entry in std::fs::read_dir(&folder)?.flatten() {
                    // Only files named as this store names them (a token and .png): a folder
                    // pointed at by mistake keeps its artworks and everything else.
                    let path = entry.path();
                    let ours = path.extension().is_some_and(|e| e == "png")
                        && path.file_stem().and_then(|s| s.to_str()).is_some_and(well_formed);
                    if ours && std::fs::remove_file(&path).is_ok() {
                        removed += 1;
                    }
                }
                if removed > 0 {
                    tracing::info!("share: deleted {removed} paintings left by an earlier run in {}", folder.display());
                }
                (folder, None)
            }
            None => {
                remove_left_behind(&std::env::temp_dir());
                let prefix = format!("{TEMPORARY_PREFIX}{}-", std::process::id());
                let dir = tempfile::Builder::new().prefix(&prefix).tempdir()?;
                private_folder(dir.path())?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        Ok(ShareStore { config, folder, _temporary: temporary, texts, inner: Mutex::new(Inner::default()) })
    }

    pub fn config(&self) -> &ShareConfig {
        &self.config
    }

    /// The kiosk stops: every painting on offer is deleted with its link, and a temporary
    /// folder with it (the guest listener may still hold the store; nothing is left for it).
    pub fn close(&self) {
        let mut inner = self.lock();
        let n = inner.entries.len();
        for (_, e) in inner.entries.drain() {
            remove_files(&e);
        }
        if self._temporary.is_some() {
            let _ = std::fs::remove_dir_all(&self.folder);
        }
        if n > 0 {
            tracing::info!("share: {n} paintings on offer deleted as the kiosk stops");
        }
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offers a painting and its making-of (`frames`, first to last; may be empty): a token at
    /// once (for the QR code), the files a moment later (encoded on a thread of their own; the
    /// page waits for them).
    pub fn offer(
        self: &Arc<Self>,
        painting: Arc<RgbImage>,
        frames: Vec<Arc<RgbImage>>,
        label: ShareLabel,
        lang: &str,
    ) -> Offered {
        let token = new_token();
        let ttl = Duration::from_secs_f64(self.config.expire_min * 60.0);
        let now = Instant::now();
        let expires = SystemTime::now() + ttl;
        let entry = Entry {
            file: None,
            making_of: None,
            making_of_frames: if frames.len() >= 2 { frames.len() } else { 0 },
            label,
            lang: lang.to_string(),
            expires_at: now + ttl,
            expires,
            offered_at: now,
        };
        {
            let mut inner = self.lock();
            inner.entries.insert(token.clone(), entry);
            // Over the bound: the oldest goes, file and all.
            while inner.entries.len() > self.config.max_paintings {
                let Some(oldest) = inner.entries.iter().min_by_key(|(_, e)| e.offered_at).map(|(t, _)| t.clone())
                else {
                    break;
                };
                if let Some(e) = inner.entries.remove(&oldest) {
                    remove_files(&e);
                }
            }
        }
        let (store, key) = (self.clone(), token.clone());
        // The file name is not the token: the folder reveals nothing a link could use.
        let path = self.folder.join(format!("{}.png", new_token()));
        let animation = self.folder.join(format!("{}.png", new_token()));
        std::thread::Builder::new()
            .name("take-home-png".into())
            .spawn(move || {
                let mut png = Vec::new();
                let enlarged = for_take_home(&painting);
                let written = enlarged
                    .as_ref()
                    .unwrap_or(&painting)
                    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                    .map_err(std::io::Error::other)
                    .and_then(|_| write_private(&path, &png));
                {
                    let mut inner = store.lock();
                    match (written, inner.entries.get_mut(&key)) {
                        (Ok(()), Some(e)) => e.file = Some(path),
                        (Ok(()), None) => return remove_file(Some(&path)), // expired or replaced meanwhile
                        (Err(e), _) => {
                            tracing::error!("share: cannot write {}: {e}", path.display());
                            inner.entries.remove(&key);
                            return;
                        }
                    }
                }
                // The painting is ready to take; its making-of follows (a second or two).
                if frames.len() < 2 {
                    return;
                }
                let written = making_of::encode_apng(&frames, making_of::MAX_BYTES)
                    .and_then(|bytes| write_private(&animation, &bytes).map_err(|e| e.to_string()));
                let mut inner = store.lock();
                match (written, inner.entries.get_mut(&key)) {
                    (Ok(()), Some(e)) => e.making_of = Some(animation),
                    (Ok(()), None) => remove_file(Some(&animation)),
                    (Err(e), entry) => {
                        // The painting is still offered: only its making-of is missing.
                        tracing::error!("share: cannot write the making-of {}: {e}", animation.display());
                        remove_file(Some(&animation));
                        if let Some(entry) = entry {
                            entry.making_of_frames = 0;
                        }
                    }
                }
            })
            .expect("spawn the take-home-png thread");
        let url = format!("{}/p/{token}", self.config.public_url.trim_end_matches('/'));
        tracing::info!("share: painting offered, deleted in {} min", self.config.expire_min);
        Offered { token, url, expires }
    }

    pub(crate) fn lookup(&self, token: &str) -> Lookup {
        let inner = self.lock();
        match inner.entries.get(token) {
            Some(e) if e.expires_at > Instant::now() => Lookup::Found(Box::new(e.clone())),
            Some(_) => Lookup::Gone, // expired, not reaped yet
            None if inner.gone.contains_key(token) => Lookup::Gone,
            None => Lookup::Unknown,
        }
    }

    /// Deletes expired paintings (files and tokens); returns how many.
    pub fn reap(&self) -> usize {
        let now = Instant::now();
        let mut inner = self.lock();
        let expired: Vec<String> =
            inner.entries.iter().filter(|(_, e)| e.expires_at <= now).map(|(t, _)| t.clone()).collect();
        for token in &expired {
            if let Some(e) = inner.entries.remove(token) {
                remove_files(&e);
            }
            inner.gone.insert(token.clone(), now);
        }
        inner.gone.retain(|_, at| now.duration_since(*at) < GONE_KEPT);
        inner.misses.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < MISS_WINDOW));
        if !expired.is_empty() {
            tracing::info!("share: {} expired paintings deleted", expired.len());
        }
        expired.len()
    }

    /// Paintings on offer now.
    pub fn offered(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether `peer` has used up its wrong links for this minute.
    pub(crate) fn limited(&self, peer: IpAddr) -> bool {
        let now = Instant::now();
        let mut inner = self.lock();
        let Some(times) = inner.misses.get_mut(&peer) else { return false };
        while times.front().is_some_and(|t| now.duration_since(*t) >= MISS_WINDOW) {
            times.pop_front();
        }
        times.len() >= self.config.misses_per_minute as usize
    }

    /// Counts a wrong link from `peer`.
    pub(crate) fn missed(&self, peer: IpAddr) {
        let mut inner = self.lock();
        if inner.misses.len() >= MAX_TRACKED_ADDRESSES && !inner.misses.contains_key(&peer) {
            // Forget the quietest address rather than grow without bound.
            if let Some(quiet) = inner.misses.iter().min_by_key(|(_, t)| t.len()).map(|(a, _)| *a) {
                inner.misses.remove(&quiet);
            }
        }
        let times = inner.misses.entry(peer).or_default();
        times.push_back(Instant::now());
        if times.len() > 1000 {
            times.pop_front();
        }
    }
}

fn remove_files(entry: &Entry) {
    remove_file(entry.file.as_deref());
    remove_file(entry.making_of.as_deref());
}

fn remove_file(path: Option<&Path>) {
    if let Some(p) = path
        && let Err(e) = std::fs::remove_file(p)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!("share: cannot delete {}: {e}", p.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_painting_is_enlarged_for_the_phone_and_a_large_one_kept_as_it_is() {
        let cpu = RgbImage::from_pixel(256, 192, image::Rgb([1, 2, 3]));
        assert_eq!(for_take_home(&cpu).map(|p| p.dimensions()), Some((1024, 768)));
        assert!(for_take_home(&RgbImage::new(1536, 1152)).is_none());
    }

    #[test]
    fn tokens_are_128_random_bits_in_hex() {
        let (a, b) = (new_token(), new_token());
        assert!(well_formed(&a) && well_formed(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(!well_formed("../etc/passwd") && !well_formed(&a[..31]) && !well_formed(&a.to_uppercase()));
    }

    fn store(folder: Option<PathBuf>) -> Arc<ShareStore> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let texts = Arc::new(Catalog::load(&crate::i18n::LanguageConfig::default(), root).unwrap());
        let config =
            ShareConfig { enabled: true, public_url: "http://10.0.0.5:8470".into(), folder, ..Default::default() };
        Arc::new(ShareStore::new(config, root, texts).unwrap())
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_painting_on_offer_is_readable_by_the_kiosks_user_only_and_gone_when_the_kiosk_stops() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("take-home");
        let store = store(Some(folder.clone()));
        let painting = Arc::new(RgbImage::from_pixel(8, 6, image::Rgb([200, 40, 40])));
        let frames = vec![painting.clone(), painting.clone()];
        store.offer(painting, frames, ShareLabel::default(), "en");
        let end = Instant::now() + Duration::from_secs(20);
        while files(&folder).len() < 2 {
            assert!(Instant::now() < end, "the files were not written: {:?}", files(&folder));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(mode(&folder), 0o700);
        for f in files(&folder) {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
        store.close();
        assert!(files(&folder).is_empty(), "left behind: {:?}", files(&folder));
        assert_eq!(store.offered(), 0);
    }

    #[test]
    fn a_temporary_folder_is_private_removed_when_the_kiosk_stops_and_one_left_by_a_killed_kiosk_goes_at_start() {
        // A folder a killed kiosk left (its process is gone), and one of a kiosk still running (this one).
        let temp = std::env::temp_dir();
        let dead = temp.join(format!("{TEMPORARY_PREFIX}{}-left", i32::MAX));
        let alive = temp.join(format!("{TEMPORARY_PREFIX}{}-other", std::process::id()));
        for d in [&dead, &alive] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("painting.png"), b"x").unwrap();
        }
        let store = store(None);
        assert!(!dead.exists(), "the folder of a kiosk that is gone stays");
        assert!(alive.exists(), "the folder of a kiosk that runs was deleted");
        std::fs::remove_dir_all(&alive).unwrap();
        let folder = store.folder().to_path_buf();
        assert_eq!(mode(&folder), 0o700);
        store.close();
        assert!(!folder.exists(), "the temporary folder stays after the kiosk stops");
    }

    #[test]
    fn an_enabled_share_needs_an_address_phones_can_use() {
        let c = ShareConfig { enabled: true, ..ShareConfig::default() };
        assert_eq!(c.check().unwrap_err().0, "share.public_url");
        let c = ShareConfig { public_url: "http://10.0.0.5:8470".into(), ..c };
        assert!(c.check().is_ok());
        let c = ShareConfig { expire_min: 0.0, ..c };
        assert_eq!(c.check().unwrap_err().0, "share.expire_min");
    }
}
