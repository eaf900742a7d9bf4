//! The real binary: its commands and its errors.

use crate::common;

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gallery-painter"));
    c.current_dir(common::root());
    c
}

fn output(c: &mut Command) -> (bool, String) {
    let o = c.output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn list_cameras_says_when_there_are_none() {
    let (ok, out) = output(bin().arg("list-cameras"));
    assert!(ok, "{out}");
    // The oracle is the machine itself: V4L2 cameras are /dev/video* nodes.
    let has_video_node = std::fs::read_dir("/dev")
        .map(|d| d.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().starts_with("video")))
        .unwrap_or(false);
    let stdout: Vec<&str> =
        out.lines().filter(|l| !l.contains(" INFO ") && !l.contains(" WARN ") && !l.starts_with("    ")).collect();
    if has_video_node {
        // One line per camera: `INDEX: NAME (DESCRIPTION)`.
        assert!(!stdout.is_empty(), "{out}");
        for line in stdout {
            let (index, rest) = line.split_once(": ").unwrap_or_else(|| panic!("not `index: name`: {line}"));
            assert!(index.chars().all(|c| c.is_ascii_digit()), "{line}");
            assert!(rest.ends_with(')') && rest.contains(" ("), "{line}");
        }
    } else {
        assert_eq!(stdout, vec!["no cameras found (the installation will use its fallback source)"], "{out}");
    }
}

#[test]
fn check_config_accepts_the_shipped_files_and_locates_errors() {
    let (ok, out) = output(bin().arg("check-config"));
    assert!(ok, "{out}");
    assert!(out.contains("ok   scenes/default.ron") && out.contains("ok   scenes/evening-blends.ron"), "{out}");
    assert!(out.contains("ok   visitor texts in en, de, fr, es (default en)"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("broken.ron");
    std::fs::write(&scene, "(\n  name: \"b\",\n  entries: [(styles: [(path: \"assets/styles/ink_waves.png\")], title: \"t\", duration: 5.0)],\n)\n").unwrap();
    let (ok, out) = output(bin().arg("check-config").arg(&scene));
    assert!(!ok);
    assert!(
        out.contains("broken.ron:3:") && out.contains("duration") && out.contains("duration_s") && out.contains("fix:"),
        "{out}"
    );
}

#[test]
fn stylize_paints_a_tiny_picture() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("photo.png");
    common::photo(80, 60).save(&content).unwrap();
    let out = dir.path().join("painting.png");
    let (ok, log) = output(
        bin()
            .args([
                "stylize",
                "--size",
                "48",
                "--iters",
                "3",
                "--levels",
                "1",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--save-every",
                "3",
            ])
            .arg("--content")
            .arg(&content)
            .arg("--style")
            .arg(common::style_path("ink_waves.png"))
            .arg("--style")
            .arg(format!("{}:0.5", common::style_path("ember_field.png").display()))
            .arg("--out")
            .arg(&out),
    );
    assert!(ok, "{log}");
    assert_eq!(image::open(&out).unwrap().to_rgb8().dimensions(), (48, 36));
    assert!(dir.path().join("painting-0003.png").is_file(), "{log}");
    assert!(log.contains("wrote"), "{log}");
}

#[test]
fn stylize_with_faces_finds_the_portraits_face_and_paints_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("portrait.png");
    let stylize = |more: &[&str]| {
        let mut c = bin();
        c.args(["stylize", "--content", "assets/faces/hopper.png", "--style", "assets/styles/ember_field.png"])
            .args(["--faces", "--size", "64", "--iters", "3", "--levels", "1", "--threads", "1"])
            .args(more)
            .arg("--out")
            .arg(&out);
        output(&mut c)
    };
    let (ok, log) = stylize(&[]);
    assert!(ok, "{log}");
    assert_eq!(log.lines().filter(|l| l.starts_with("face: ")).count(), 1, "{log}");
    assert_eq!(image::open(&out).unwrap().to_rgb8().dimensions(), (64, 64));
    // The other detector finds it too.
    let (ok, log) = stylize(&["--face-detector", "seeta"]);
    assert!(ok && log.lines().filter(|l| l.starts_with("face: ")).count() == 1, "{log}");
    // The model missing: a clear error with its fix.
    let (ok, log) = stylize(&["--face-model", "nowhere/model.bin"]);
    assert!(!ok && log.contains("nowhere/model.bin") && log.contains("fix: run scripts/setup.sh"), "{log}");
}

#[test]
fn stylize_reports_unreadable_images_unknown_layers_and_missing_weights() {
    let dir = tempfile::tempdir().unwrap();
    let style = common::style_path("ink_waves.png");
    let (ok, log) = output(
        bin()
            .args(["stylize", "--content", "/no/such/photo.jpg", "--out"])
            .arg(dir.path().join("o.png"))
            .arg("--style")
            .arg(&style),
    );
    assert!(!ok && log.contains("/no/such/photo.jpg") && log.contains("fix:"), "{log}");

    let content = dir.path().join("photo.png");
    common::photo(40, 30).save(&content).unwrap();
    let (ok, log) = output(
        bin()
            .args(["stylize", "--style-layers", "relu1_1,relu7_1", "--content"])
            .arg(&content)
            .arg("--style")
            .arg(&style)
            .arg("--out")
            .arg(dir.path().join("o.png")),
    );
    assert!(!ok && log.contains("relu7_1") && log.contains("use one of"), "{log}");

    let (ok, log) = output(
        bin()
            .args(["stylize", "--weights", "/no/weights.safetensors", "--content"])
            .arg(&content)
            .arg("--style")
            .arg(&style)
            .arg("--out")
            .arg(dir.path().join("o.png")),
    );
    assert!(!ok && log.contains("/no/weights.safetensors") && log.contains("scripts/setup.sh"), "{log}");
}

#[test]
fn a_wrong_libtorch_version_is_named_with_a_fix() {
    // A libtorch folder that claims another version: hard links to the real libraries
    // (same filesystem, no copies) beside a version.py that says 2.10.0.
    let real = std::fs::canonicalize(common::root().join(".libtorch")).expect(".libtorch: run scripts/setup.sh");
    let fake = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fake-torch");
    let _ = std::fs::remove_dir_all(&fake);
    std::fs::create_dir_all(fake.join("lib")).unwrap();
    for entry in std::fs::read_dir(real.join("lib")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::hard_link(&p, fake.join("lib").join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(fake.join("version.py"), "__version__ = '2.10.0+cpu'\n").unwrap();
    let cuda_rt = real.parent().unwrap().join("nvidia/cu13/lib");
    let (ok, log) = output(
        bin()
            .arg("stylize")
            .args(["--content", "x", "--style", "y", "--out", "z"])
            .env("LD_LIBRARY_PATH", format!("{}:{}", fake.join("lib").display(), cuda_rt.display())),
    );
    assert!(!ok);
    assert!(log.contains("version 2.10.0") && log.contains("needs 2.11.") && log.contains("scripts/setup.sh"), "{log}");
    let _ = std::fs::remove_dir_all(&fake);
}

#[test]
fn shipped_artworks_are_exactly_what_the_generator_makes() {
    for (i, a) in gallery_painter::artworks::ARTWORKS.iter().enumerate() {
        let made = (a.paint)(640, 480, 1000 + i as u64);
        let shipped = common::style(a.file);
        assert!(made == shipped, "{} differs from `gallery-painter make-artworks`", a.file);
    }
}

#[test]
fn console_set_password_stores_a_private_hash_and_logs_carry_no_colour_codes() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("installation.ron");
    let state = dir.path().join("state");
    std::fs::write(&config, format!("(\n    console: (state_dir: \"{}\"),\n)\n", state.display())).unwrap();
    let set = |password: &str| {
        let mut child = bin()
            .args(["console", "set-password", "--password-stdin", "--config"])
            .arg(&config)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let o = child.wait_with_output().unwrap();
        (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    };
    let (ok, out) = set("short");
    assert!(!ok && out.contains("at least 10") && out.contains("fix:"), "{out}");
    let (ok, out) = set("the night watch at noon");
    assert!(ok, "{out}");
    // The audit line, as a log file or the journal gets it: plain text, no colour codes.
    assert!(out.contains("audit") && out.contains("staff password set"), "{out}");
    assert!(!out.contains('\u{1b}'), "colour codes in a log file: {out:?}");
    assert!(out.contains("console-password") && out.contains("the console is off"), "{out}");
    let file = state.join("console-password");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("$argon2id$"));
    assert_eq!(
        gallery_painter::console::auth::check_password(&state, "the night watch at noon"),
        gallery_painter::console::auth::Check::Right
    );
}
