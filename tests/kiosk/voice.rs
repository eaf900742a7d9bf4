//! The spoken journey: one cached WAV per line and language, made by a synthesiser command
//! (a stand-in script that logs its calls, and Debian's real espeak-ng), and each line
//! played on its journey step in the headless app.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::audio::AudioSource;
use bevy::prelude::*;
use gallery_painter::app::Journey;
use gallery_painter::app::language::{Language, Texts};
use gallery_painter::app::voice::{self, SpokenLine, VoiceDesk, VoiceOn, VoiceSettings, wav_seconds};
use gallery_painter::capture::presence::PresenceEvent;
use gallery_painter::config::{CaptureTrigger, VoiceConfig};
use gallery_painter::i18n::{Catalog, LanguageConfig};
use gallery_painter::voice::{Line, Speaker, Synthesiser, VoiceError};

use crate::common;
use crate::journey::Harness;

/// A stand-in synthesiser with espeak-ng's command line: it logs `LANG|TEXT`, copies a real
/// (silent, 0.4 s) WAV file to the output and writes `GPTEXT:LANG|TEXT` after its samples,
/// so that what is played says which line it is.
struct FakeSynthesiser {
    dir: tempfile::TempDir,
}

impl FakeSynthesiser {
    fn new() -> FakeSynthesiser {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("template.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 22050,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&template, spec).unwrap();
        for _ in 0..(22050 * 4 / 10) {
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        let script = dir.path().join("fake-espeak");
        let log = dir.path().join("calls.log");
        // -v LANG -w OUT -- TEXT
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n[ \"$1\" = -v ] && [ \"$3\" = -w ] && [ \"$5\" = -- ] || exit 2\nprintf '%s|%s\\n' \"$2\" \"$6\" >> '{}'\ncp '{}' \"$4\"\nprintf 'GPTEXT:%s|%s' \"$2\" \"$6\" >> \"$4\"\n",
                log.display(),
                template.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeSynthesiser { dir }
    }

    fn synthesiser(&self, cache: &Path) -> Synthesiser {
        Synthesiser { program: self.dir.path().join("fake-espeak"), cache: cache.to_path_buf() }
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

fn wavs_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "wav")).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn line(lang: &str, text: &str) -> Line {
    Line { lang: lang.into(), text: text.into() }
}

#[test]
fn each_line_and_language_is_made_once_and_then_read_from_the_cache() {
    let fake = FakeSynthesiser::new();
    let cache = tempfile::tempdir().unwrap();
    let synth = fake.synthesiser(cache.path());
    let hello_en = synth.make(&line("en", "Hold still.")).unwrap();
    let hello_de = synth.make(&line("de", "Bitte still halten.")).unwrap();
    assert_ne!(hello_en, hello_de);
    // Asked again, also by another synthesiser of the same program: from the cache.
    assert_eq!(synth.make(&line("en", "Hold still.")).unwrap(), hello_en);
    assert_eq!(fake.synthesiser(cache.path()).make(&line("en", "Hold still.")).unwrap(), hello_en);
    assert_eq!(fake.calls(), vec!["en|Hold still.", "de|Bitte still halten."]);
    assert_eq!(wavs_in(cache.path()), {
        let mut v = vec![hello_en.clone(), hello_de];
        v.sort();
        v
    });
    // A changed text (a corrected translation) is a new file, not the old sound.
    let changed = synth.make(&line("en", "Hold still, please.")).unwrap();
    assert_ne!(changed, hello_en);
    // A regional tag speaks its language's voice.
    synth.make(&line("de-CH", "Grüezi")).unwrap();
    assert_eq!(fake.calls().last().unwrap(), "de|Grüezi");
    // Nothing half-made is left beside the lines.
    let others: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_none_or(|x| x != "wav"))
        .collect();
    assert!(others.is_empty(), "temporary files left: {others:?}");
}

#[test]
fn a_missing_synthesiser_is_said_with_its_fix_and_a_failing_one_with_its_words() {
    let cache = tempfile::tempdir().unwrap();
    let missing = Synthesiser { program: "/nonexistent/espeak-ng".into(), cache: cache.path().into() };
    let e = missing.make(&line("en", "Hello")).unwrap_err();
    assert!(matches!(e, VoiceError::Missing { .. }), "{e:?}");
    assert!(e.to_string().contains("apt-get install espeak-ng"), "{e}");
    let failing = Synthesiser { program: "false".into(), cache: cache.path().into() };
    let e = failing.make(&line("en", "Hello")).unwrap_err().to_string();
    assert!(e.contains("`false` could not say \"Hello\" in `en`"), "{e}");
    assert!(wavs_in(cache.path()).is_empty(), "a failed line must not be cached");

    // The voice thread says it once and goes silent; asking more is harmless.
    let speaker = Speaker::start(missing);
    speaker.ask(gallery_painter::voice::Request { tag: 1, line: line("en", "Hello"), prepare_only: false });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !speaker.is_silent() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(speaker.is_silent());
    speaker.ask(gallery_painter::voice::Request { tag: 2, line: line("en", "Hello"), prepare_only: false });
    assert_eq!(speaker.spoken().count(), 0);
}

#[test]
fn debians_espeak_ng_speaks_every_language_the_kiosk_offers() {
    let found = std::process::Command::new("espeak-ng").arg("--version").output();
    assert!(found.is_ok(), "espeak-ng is not installed: run scripts/setup.sh (it installs it)");
    let texts = Catalog::load(&LanguageConfig::default(), &common::root()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let synth = Synthesiser::espeak(cache.path().to_path_buf());
    for lang in texts.languages() {
        let text = texts.text(lang, "voice-painting");
        let wav = std::fs::read(synth.make(&line(lang, &text)).unwrap()).unwrap();
        let seconds = wav_seconds(&wav).unwrap();
        // "Your photo has been taken. Watch it being painted." takes a few seconds to say.
        assert!((1.0..10.0).contains(&seconds), "{lang}: {seconds} s for {text:?}");
    }
    assert_eq!(wavs_in(cache.path()).len(), texts.languages().count());
}

/// The lines played, with the journey step they were played in, and what the played WAV
/// itself says it is (the stand-in's `LANG|TEXT`).
#[derive(Resource, Default)]
struct Heard(Vec<(Journey, &'static str, String, String)>);

fn listen(
    mut heard: ResMut<Heard>,
    state: Res<State<Journey>>,
    sources: Res<Assets<AudioSource>>,
    lines: Query<(&SpokenLine, &AudioPlayer), Added<SpokenLine>>,
) {
    for (l, player) in &lines {
        let bytes = sources.get(&player.0).map(|s| s.bytes.to_vec()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).split("GPTEXT:").nth(1).unwrap_or_default().to_string();
        heard.0.push((*state.get(), l.key, l.lang.clone(), text));
    }
}

fn spoken_harness(fake: &FakeSynthesiser, cache: &Path, enabled: bool) -> Harness {
    spoken_harness_in(fake, cache, enabled, "de")
}

fn spoken_harness_in(fake: &FakeSynthesiser, cache: &Path, enabled: bool, lang: &str) -> Harness {
    let texts = Arc::new(Catalog::load(&LanguageConfig::default(), &common::root()).unwrap());
    let synthesiser = fake.synthesiser(cache);
    let mut h = Harness::with(CaptureTrigger::Auto, move |app| {
        app.add_plugins(AssetPlugin::default())
            .init_asset::<AudioSource>()
            .insert_resource(Texts(texts))
            .insert_resource(Language { current: lang.into(), default: lang.into() })
            .insert_resource(VoiceSettings(VoiceConfig { enabled, volume: 0.5, button: true }))
            .insert_resource(VoiceDesk(Speaker::start(synthesiser)))
            .init_resource::<Heard>()
            .add_systems(PostUpdate, listen);
        // The row of the visitor's controls, as the full view has it: the app puts its own
        // voice button there.
        app.world_mut().spawn((gallery_painter::app::access::SettingsRow, Node::default()));
        voice::plugin(app);
    });
    // The voice thread answers in real time: each frame of the test takes some.
    h.pace = Duration::from_millis(15);
    h
}

#[test]
fn the_journey_is_spoken_step_by_step_in_the_visitors_language() {
    for lang in ["de", "fr"] {
        spoken_step_by_step(lang);
    }
}

fn spoken_step_by_step(lang: &str) {
    let fake = FakeSynthesiser::new();
    let cache = tempfile::tempdir().unwrap();
    let mut h = spoken_harness_in(&fake, cache.path(), true, lang);
    // Before anyone comes, every line without an artwork's title is made in every language:
    // 5 lines and the countdown's 3 numbers, in 4 languages.
    let deadline = Instant::now() + Duration::from_secs(20);
    while wavs_in(cache.path()).len() < 32 && Instant::now() < deadline {
        h.run(0.1);
    }
    assert_eq!(wavs_in(cache.path()).len(), 32, "{:?}", fake.calls());
    assert!(h.app.world().resource::<Heard>().0.is_empty(), "nothing is said to an empty room");

    h.camera_frame(5);
    h.signal(PresenceEvent::Entered);
    h.run(0.6);
    h.signal(PresenceEvent::Still);
    h.run(3.6);
    assert_eq!(h.journey(), Journey::Painting);
    h.run(0.5);
    h.snapshot(5, "Night", 10, true);
    h.run(0.5);
    assert_eq!(h.journey(), Journey::Reveal);
    h.run(0.6);

    let heard: Vec<(Journey, &str, String, String)> = h.app.world().resource::<Heard>().0.clone();
    let keys: Vec<(Journey, &str)> = heard.iter().map(|(j, k, ..)| (*j, *k)).collect();
    assert_eq!(
        keys,
        vec![
            (Journey::Noticed, "voice-noticed-hold-still"),
            (Journey::Countdown, "voice-countdown"),
            (Journey::Countdown, "voice-countdown"),
            (Journey::Countdown, "voice-countdown"),
            (Journey::Painting, "voice-painting"),
            (Journey::Reveal, "voice-reveal"),
        ],
        "{heard:?}"
    );
    assert!(heard.iter().all(|(_, _, l, _)| l == lang), "{heard:?}");
    // What was played is each step's own line in the visitor's language, in order: the
    // countdown's numbers 3, 2, 1, and the reveal naming the artwork.
    let texts = Catalog::load(&LanguageConfig::default(), &common::root()).unwrap();
    let number =
        |n: f64| texts.text_with(lang, "voice-countdown", &[("seconds", gallery_painter::i18n::Arg::Number(n))]);
    let expected: Vec<String> = vec![
        texts.text(lang, "voice-noticed-hold-still"),
        number(3.0),
        number(2.0),
        number(1.0),
        texts.text(lang, "voice-painting"),
        texts.text_with(lang, "voice-reveal", &[("title", "Night".into())]),
    ]
    .into_iter()
    .map(|t| format!("{lang}|{t}"))
    .collect();
    let played: Vec<String> = heard.iter().map(|(.., text)| text.clone()).collect();
    assert_eq!(played, expected);
    // Only the reveal, which names the artwork, was made during the visit; nothing twice.
    let calls = fake.calls();
    assert_eq!(calls.len(), 33, "{calls:?}");
    assert_eq!(calls.last(), expected.last(), "{calls:?}");
    let unique: std::collections::BTreeSet<_> = calls.iter().collect();
    assert_eq!(unique.len(), calls.len(), "a line was made twice: {calls:?}");
}

#[test]
fn a_visitor_turns_the_voice_on_for_their_visit_and_the_next_visitor_starts_silent() {
    let fake = FakeSynthesiser::new();
    let cache = tempfile::tempdir().unwrap();
    let mut h = spoken_harness(&fake, cache.path(), false);
    h.run(0.5);
    // The button the app put in the visitor's controls.
    let buttons: Vec<Entity> =
        h.app.world_mut().query_filtered::<Entity, With<voice::VoiceButton>>().iter(h.app.world()).collect();
    assert_eq!(buttons.len(), 1, "the app spawned no voice button");
    let button = buttons[0];
    h.camera_frame(9);
    h.signal(PresenceEvent::Entered);
    h.run(0.4);
    assert_eq!(h.journey(), Journey::Noticed);
    assert!(h.app.world().resource::<Heard>().0.is_empty(), "off by default");
    *h.app.world_mut().get_mut::<Interaction>(button).unwrap() = Interaction::Pressed;
    h.run(0.5);
    // The line is made by the voice thread in real time: on a loaded machine it takes a few
    // more frames (at most 3 s of the kiosk's time, still in Noticed).
    for _ in 0..30 {
        if !h.app.world().resource::<Heard>().0.is_empty() {
            break;
        }
        h.run(0.1);
    }
    assert!(h.app.world().resource::<VoiceOn>().0);
    assert_eq!(h.journey(), Journey::Noticed, "pressing it is not asking to be painted");
    let heard = h.app.world().resource::<Heard>().0.clone();
    assert_eq!(heard.iter().map(|(_, k, ..)| *k).collect::<Vec<_>>(), vec!["voice-noticed-hold-still"], "{heard:?}");

    // They leave: the next visitor starts with the configured (silent) voice.
    h.signal(PresenceEvent::Left);
    h.run(2.5);
    assert_eq!(h.journey(), Journey::Attract);
    assert!(!h.app.world().resource::<VoiceOn>().0);
    let _ = button;
}
