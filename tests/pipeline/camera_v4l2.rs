//! The real camera path (nokhwa -> v4l -> ioctl/mmap/poll) against the V4L2 test camera
//! (`testcam/v4l2_testcam.c`, loaded with LD_PRELOAD by `gallery-painter test-camera`):
//! listing, YUYV and MJPEG frames with the right colours, mirroring, the nearest format, and
//! the faults a USB camera has (unplug and replug, corrupt frames, a stall, busy at open).

use crate::common;

use std::process::Command;

use gallery_painter::cli::test_camera::{CHART, chart, to_yuyv};
use image::RgbImage;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gallery-painter"));
    c.current_dir(common::root());
    c
}

/// Runs `gallery-painter ARGS` with the test camera configured by `camera`.
fn with_camera(camera: &[&str], args: &[&str]) -> (bool, String) {
    let o = bin()
        .arg("test-camera")
        .args(camera)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_gallery-painter"))
        .args(args)
        .output()
        .unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// The `key=value` fields of `check-camera`'s status lines, in order.
fn status_lines(out: &str) -> Vec<(String, u64, u64, u64)> {
    out.lines()
        .filter(|l| l.starts_with("t="))
        .map(|l| {
            let field = |k: &str| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{k}=")))
                    .unwrap_or_else(|| panic!("no {k} in {l}"))
                    .to_string()
            };
            let state = l.split("state=").nth(1).unwrap().split(' ').next().unwrap().to_string();
            (
                state,
                field("frames").parse().unwrap(),
                field("bad_frames").parse().unwrap(),
                field("reconnects").parse().unwrap(),
            )
        })
        .collect()
}

fn cpu_seconds(out: &str) -> f64 {
    out.lines().find_map(|l| l.strip_prefix("cpu_seconds=")).unwrap().trim().parse().unwrap()
}

/// The chart's six patch centres match within `tol` per channel.
fn assert_chart(img: &RgbImage, mirrored: bool, tol: i32) {
    let (w, h) = img.dimensions();
    for (k, want) in CHART.iter().enumerate() {
        let (col, row) = ((k % 3) as u32, (k / 3) as u32);
        let col = if mirrored { 2 - col } else { col };
        let p = img.get_pixel(w * (2 * col + 1) / 6, h * (2 * row + 1) / 4);
        for c in 0..3 {
            assert!((p[c] as i32 - want[c] as i32).abs() <= tol, "patch {k} ({col},{row}): got {p:?}, want {want:?}");
        }
    }
}

#[test]
fn list_cameras_shows_the_test_camera_with_its_formats_sizes_and_rates() {
    let (ok, out) =
        with_camera(&["--name", "Lobby Cam", "--sizes", "640x480,320x240", "--fps", "30,15"], &["list-cameras"]);
    assert!(ok, "{out}");
    assert!(out.contains("0: Lobby Cam (Video4Linux Device @ /dev/video0)"), "{out}");
    assert!(out.contains("    MJPEG: 640x480 @ 30/15 fps, 320x240 @ 30/15 fps"), "{out}");
    assert!(out.contains("    YUYV: 640x480 @ 30/15 fps, 320x240 @ 30/15 fps"), "{out}");
    let (ok, out) = with_camera(&["--formats", "yuyv", "--index", "2"], &["list-cameras"]);
    assert!(ok && out.contains("2: Gallery Test Camera") && !out.contains("MJPEG"), "{out}");
}

#[test]
fn yuyv_only_camera_delivers_the_chart_in_its_colours_and_mirrored() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("yuyv.png");
    let (ok, out) = with_camera(
        &["--formats", "yuyv"],
        &["check-camera", "--seconds", "1.5", "--mirror", "true", "--snapshot", snap.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    // Asked for MJPEG (the config's request), chose YUYV: nokhwa's own `Closest` fails here.
    assert!(out.contains("640x480@30FPS, YUYV"), "{out}");
    let lines = status_lines(&out);
    assert!(lines.last().unwrap().1 >= 20, "{out}");
    assert_chart(&image::open(&snap).unwrap().to_rgb8(), true, 6);
}

#[test]
fn mjpeg_only_camera_delivers_the_chart_at_the_nearest_size_and_rate() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("mjpeg.png");
    let (ok, out) = with_camera(
        &["--formats", "mjpeg", "--sizes", "800x600,320x240", "--fps", "24,12"],
        &[
            "check-camera",
            "--seconds",
            "1.5",
            "--size",
            "1280x720",
            "--fps",
            "15",
            "--mirror",
            "false",
            "--snapshot",
            snap.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
    // 1280x720 at 15 fps is not offered: the nearest size, then the nearest rate, said in the log.
    assert!(out.contains("1280x720 at 15 fps is not offered; using 800x600@12FPS, MJPEG"), "{out}");
    let img = image::open(&snap).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 600));
    assert_chart(&img, false, 10);
}

#[test]
fn an_unplugged_camera_is_retried_with_backoff_and_resumes_when_replugged() {
    let (ok, out) = with_camera(&["--unplug-after", "15", "--replug-after", "2"], &["check-camera", "--seconds", "5"]);
    assert!(ok, "{out}");
    let lines = status_lines(&out);
    let states: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    let lost = states.iter().position(|s| *s == "lost").unwrap_or_else(|| panic!("never lost: {out}"));
    let back =
        lost + states[lost..].iter().position(|s| *s == "running").unwrap_or_else(|| panic!("never back: {out}"));
    // Frames stop while it is gone and resume after the replug, in the same process.
    assert_eq!(lines[lost].1, 15, "{out}");
    assert!(lines.last().unwrap().1 > lines[back].1 && lines.last().unwrap().1 > 30, "{out}");
    // Retried with growing waits (0.3 s, 0.6 s, 1.2 s ...), not in a loop: a few attempts in 2 s.
    let reconnects = lines.last().unwrap().3;
    assert!((1..=5).contains(&reconnects), "reconnects {reconnects}: {out}");
    assert!(out.contains("retrying in"), "{out}");
}

#[test]
fn corrupt_mjpeg_frames_are_skipped_and_counted_without_spinning() {
    let (ok, out) = with_camera(&["--formats", "mjpeg", "--corrupt-every", "4"], &["check-camera", "--seconds", "3"]);
    assert!(ok, "{out}");
    let last = status_lines(&out).last().cloned().unwrap();
    assert_eq!(last.0, "running", "{out}");
    // No reopen of any kind: none counted (a reopen that works counts too) and none logged.
    assert_eq!(last.3, 0, "a corrupt frame reopened the camera: {out}");
    assert!(!out.contains("reopening") && !out.contains("is back"), "{out}");
    // 30 fps: a quarter of ~90 frames are bad, the rest are painted.
    assert!(last.2 >= 10 && last.1 >= 50, "{out}");
    // Bounded CPU: decoding 30 frames a second, not retrying in a loop.
    let cpu = cpu_seconds(&out);
    assert!(cpu < 2.0, "cpu {cpu} s in 3 s");
}

#[test]
fn a_stalled_camera_is_reported_as_stalled_and_resumes() {
    // The stall starts when the camera has delivered and ends when the stall has been
    // reported, whatever the machine's speed: the test reads check-camera's lines as they
    // come and answers them through the stall file.
    use std::io::BufRead;
    let control = tempfile::tempdir().unwrap();
    let stall = control.path().join("stalled");
    let stall_arg = stall.display().to_string();
    let mut child = bin()
        .args(["test-camera", "--stall-file", &stall_arg, "--"])
        .arg(env!("CARGO_BIN_EXE_gallery-painter"))
        .args(["check-camera", "--seconds", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    let (mut stalled_at, mut resumed_from) = (None, None);
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        let Some((state, frames, ..)) = status_lines(&line).into_iter().next() else { continue };
        match (stalled_at, resumed_from) {
            (None, None) if state == "running" && frames >= 10 && !stall.exists() => {
                std::fs::write(&stall, "").unwrap();
            }
            (None, None) if state == "stalled" => {
                stalled_at = Some(frames);
                std::fs::remove_file(&stall).unwrap();
            }
            (Some(_), None) if state == "running" => resumed_from = Some(frames),
            (Some(_), Some(from)) if state == "running" && frames >= from + 15 => break,
            _ => {}
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = seen.join("\n");
    let stalled_at = stalled_at.unwrap_or_else(|| panic!("never reported stalled: {out}"));
    // Reported with the frame count frozen where it stopped, and frames flow again after.
    assert!(stalled_at >= 10, "{out}");
    assert!(resumed_from.is_some(), "never resumed: {out}");
}

#[test]
fn a_busy_camera_is_retried_until_it_is_free() {
    let (ok, out) = with_camera(&["--busy-opens", "2"], &["check-camera", "--seconds", "3"]);
    assert!(ok, "{out}");
    assert!(out.contains("Device or resource busy"), "{out}");
    let last = status_lines(&out).last().cloned().unwrap();
    assert_eq!(last.0, "running", "{out}");
    assert!(last.1 > 20, "{out}");
}

#[test]
fn the_yuyv_encoding_round_trips_through_the_decoder_nokhwa_uses() {
    // The chart's colours survive YUYV at 4:2:2 (flat patches: no chroma bleeding inside).
    let img = chart(12, 4);
    let yuyv = to_yuyv(&img);
    assert_eq!(yuyv.len(), 12 * 4 * 2);
    let rgb = nokhwa::utils::yuyv422_to_rgb(&yuyv, false).unwrap();
    let back = RgbImage::from_raw(12, 4, rgb).unwrap();
    assert_chart(&back, false, 3);
}

#[test]
fn the_format_choice_takes_the_nearest_size_then_the_wanted_encoding_then_the_nearest_rate() {
    use gallery_painter::capture::camera::choose_format;
    use nokhwa::utils::{CameraFormat, FrameFormat, Resolution};
    let f = |w, h, kind, fps| CameraFormat::new(Resolution::new(w, h), kind, fps);
    let want = f(640, 480, FrameFormat::MJPEG, 30);
    // YUYV only: YUYV (nokhwa's `Closest` returns nothing here).
    let yuyv = [f(640, 480, FrameFormat::YUYV, 30), f(320, 240, FrameFormat::YUYV, 30)];
    assert_eq!(choose_format(&yuyv, want), Some(yuyv[0]));
    // Not the exact size: the nearest, with the rate nearest 30 at that size.
    let sizes =
        [f(800, 600, FrameFormat::MJPEG, 20), f(800, 600, FrameFormat::MJPEG, 10), f(160, 120, FrameFormat::MJPEG, 30)];
    assert_eq!(choose_format(&sizes, want), Some(sizes[0]));
    // Both encodings at the size: MJPEG, as asked.
    let both =
        [f(640, 480, FrameFormat::YUYV, 30), f(640, 480, FrameFormat::MJPEG, 15), f(640, 480, FrameFormat::MJPEG, 30)];
    assert_eq!(choose_format(&both, want), Some(both[2]));
    // Nothing this program decodes.
    assert_eq!(choose_format(&[f(640, 480, FrameFormat::NV12, 30)], want), None);
}
