//! The spoken journey's voice, without Bevy: each line a visitor may hear is made once per
//! text and language by a speech synthesiser (`espeak-ng`), into a WAV file named by the hash
//! of what it says, and kept for the next visitor. Lines are made on a thread of their own
//! ([`Speaker`]), never on the frame thread; the display plays the bytes that come back.
//!
//! Nothing of a visitor is spoken or stored: the lines are the journey's own texts and the
//! artworks' titles.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use sha2::{Digest, Sha256};

/// One thing to say, in one language (a Fluent language tag such as "de").
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    pub lang: String,
    pub text: String,
}

/// Why a line could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("the speech synthesiser `{program}` is not installed\n  fix: {fix}")]
    Missing { program: String, fix: &'static str },
    #[error("`{program}` could not say {text:?} in `{lang}`: {reason}")]
    Failed { program: String, lang: String, text: String, reason: String },
    #[error("the voice cache {path}: {reason}\n  fix: make the folder writable by the installation's user")]
    Cache { path: PathBuf, reason: String },
}

/// How long one line may take to make (espeak-ng needs ~10 ms; a hung synthesiser must not
/// keep the voice thread forever).
const MAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A speech synthesiser with the command line of espeak-ng: `PROGRAM -v LANG -w OUT.wav -- TEXT`.
#[derive(Clone, Debug)]
pub struct Synthesiser {
    pub program: PathBuf,
    /// Where made lines are kept, `<sha256>.wav`.
    pub cache: PathBuf,
}

impl Synthesiser {
    /// Debian's espeak-ng (scripts/setup.sh installs it), its lines kept under `cache`.
    pub fn espeak(cache: PathBuf) -> Synthesiser {
        Synthesiser { program: PathBuf::from("espeak-ng"), cache }
    }

    /// The cached file of `line`: named by what makes it (the program's name, its voice
    /// and the text), so a changed text or translation is made anew and never mixed up.
    pub fn cache_path(&self, line: &Line) -> PathBuf {
        let program = self.program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut hash = Sha256::new();
        for part in [program.as_str(), voice_for(&line.lang), line.text.as_str()] {
            hash.update(part.as_bytes());
            hash.update([0u8]);
        }
        let digest = crate::ids::hex(&hash.finalize());
        self.cache.join(format!("{digest}.wav"))
    }

    /// The WAV file that says `line`: from the cache, or made now (and then cached).
    pub fn make(&self, line: &Line) -> Result<PathBuf, VoiceError> {
        let path = self.cache_path(line);
        if path.is_file() {
            return Ok(path);
        }
        std::fs::create_dir_all(&self.cache)
            .map_err(|e| VoiceError::Cache { path: self.cache.clone(), reason: e.to_string() })?;
        // Made under a temporary name and renamed: a kiosk stopped mid-line never leaves a
        // half file that would be played as the line from then on.
        let partial = tempfile::Builder::new()
            .suffix(".wav.tmp")
            .tempfile_in(&self.cache)
            .map_err(|e| VoiceError::Cache { path: self.cache.clone(), reason: e.to_string() })?;
        let failed = |reason: String| VoiceError::Failed {
            program: self.program.display().to_string(),
            lang: line.lang.clone(),
            text: line.text.clone(),
            reason,
        };
        let mut child = Command::new(&self.program)
            .arg("-v")
            .arg(voice_for(&line.lang))
            .arg("-w")
            .arg(partial.path())
            .arg("--")
            .arg(&line.text)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => VoiceError::Missing {
                    program: self.program.display().to_string(),
                    fix: "sudo apt-get install espeak-ng (scripts/setup.sh installs it); until then the kiosk stays silent",
                },
                _ => failed(e.to_string()),
            })?;
        let status = wait_bounded(&mut child, MAKE_TIMEOUT).map_err(failed)?;
        if !status.success() {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                use std::io::Read;
                let _ = err.read_to_string(&mut stderr);
            }
            return Err(failed(format!("{status}: {}", stderr.trim())));
        }
        let made = std::fs::metadata(partial.path()).map(|m| m.len()).unwrap_or(0);
        if made < 44 {
            return Err(failed(format!("it wrote {made} bytes, not a WAV file")));
        }
        partial.persist(&path).map_err(|e| VoiceError::Cache { path: path.clone(), reason: e.to_string() })?;
        Ok(path)
    }
}

/// The synthesiser's voice for a language tag: its primary language ("de-CH" speaks "de").
fn voice_for(lang: &str) -> &str {
    lang.split(['-', '_']).next().unwrap_or(lang)
}

fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> Result<std::process::ExitStatus, String> {
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s; stopped", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A line asked for, with the caller's tag (which journey step it belongs to).
#[derive(Clone, Debug)]
pub struct Request {
    pub tag: u64,
    pub line: Line,
    /// Make it only (for the cache); nothing is sent back.
    pub prepare_only: bool,
}

/// A line made: the WAV file's bytes.
#[derive(Clone, Debug)]
pub struct Spoken {
    pub tag: u64,
    pub line: Line,
    pub wav: Arc<[u8]>,
}

/// The voice thread: asks go in, WAV bytes come out. Dropped: the thread ends.
pub struct Speaker {
    requests: Sender<Request>,
    spoken: Receiver<Spoken>,
    silent: Arc<AtomicBool>,
}

impl Speaker {
    pub fn start(synthesiser: Synthesiser) -> Speaker {
        let (requests, asked) = crossbeam_channel::unbounded::<Request>();
        let (said, spoken) = crossbeam_channel::unbounded();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || serve(synthesiser, asked, said, flag))
            .expect("spawn the voice thread");
        Speaker { requests, spoken, silent }
    }

    pub fn ask(&self, request: Request) {
        if !self.is_silent() {
            let _ = self.requests.send(request);
        }
    }

    /// Lines made since the last call.
    pub fn spoken(&self) -> impl Iterator<Item = Spoken> + '_ {
        self.spoken.try_iter()
    }

    /// The synthesiser is missing: nothing will ever be said (it was said once, with its fix).
    pub fn is_silent(&self) -> bool {
        self.silent.load(Ordering::Relaxed)
    }
}

fn serve(synthesiser: Synthesiser, asked: Receiver<Request>, said: Sender<Spoken>, silent: Arc<AtomicBool>) {
    for request in asked {
        if silent.load(Ordering::Relaxed) {
            continue;
        }
        let made = synthesiser.make(&request.line).and_then(|path| {
            std::fs::read(&path).map_err(|e| VoiceError::Cache { path: path.clone(), reason: e.to_string() })
        });
        match made {
            Ok(_) if request.prepare_only => {}
            Ok(bytes) => {
                if said.send(Spoken { tag: request.tag, line: request.line, wav: bytes.into() }).is_err() {
                    return;
                }
            }
            Err(e @ VoiceError::Missing { .. }) => {
                // Said once, with its fix; the kiosk goes on without a voice.
                tracing::error!("voice: {e}");
                silent.store(true, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!("voice: {e}"),
        }
    }
}

/// Why nothing said could be heard on this machine, if so: no sound card with a playback
/// device under `dev_snd` (`/dev/snd`; ALSA's, which Bevy's audio and PulseAudio or
/// PipeWire all play through).
pub fn no_playback_device(dev_snd: &Path) -> Option<String> {
    let playback = std::fs::read_dir(dev_snd).ok().into_iter().flatten().flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with("pcmC") && name.ends_with('p')
    });
    (!playback).then(|| {
        format!(
            "no audio output device ({} has no playback device)\n  fix: connect the loudspeakers (or HDMI audio) and check `aplay -l` lists them",
            dev_snd.display()
        )
    })
}

/// The default place of the cache: `<root>/.cache/voice`.
pub fn default_cache(root: &Path) -> PathBuf {
    root.join(".cache").join("voice")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_without_a_playback_device_is_told_from_one_with() {
        let dir = tempfile::tempdir().unwrap();
        assert!(no_playback_device(&dir.path().join("missing")).is_some_and(|w| w.contains("aplay -l")));
        std::fs::write(dir.path().join("controlC0"), b"").unwrap();
        std::fs::write(dir.path().join("pcmC0D0c"), b"").unwrap();
        assert!(no_playback_device(dir.path()).is_some(), "a microphone alone plays nothing");
        std::fs::write(dir.path().join("pcmC0D3p"), b"").unwrap();
        assert_eq!(no_playback_device(dir.path()), None);
    }
}
