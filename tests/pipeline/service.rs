//! Running unattended: the health verdicts, the metrics, the HTTP endpoint (answers, bad
//! requests, slow clients), the address policy and the fault schedule.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gallery_painter::painting::Fault;
use gallery_painter::service::faults::{FaultKind, parse};
use gallery_painter::service::health::{Health, WORKER_STALE};
use gallery_painter::service::http::{LIMITS, check_address, health_routes, serve};

fn healthy(now: Instant) -> Health {
    let mut h = Health::new(now);
    h.worker_heartbeat = Some(now);
    h.artwork = "Swirling Night".into();
    h
}

#[test]
fn the_verdict_names_the_first_problem() {
    let now = Instant::now();
    let h = healthy(now);
    assert_eq!(h.verdict(now), Ok("painting \"Swirling Night\"".into()));
    let mut resting = h.clone();
    resting.resting = true;
    assert_eq!(resting.verdict(now), Ok("resting (outside opening hours)".into()));
    // An artwork left out of the show is named (the show goes on: 200).
    let mut refused = h.clone();
    refused.artworks_refused = vec!["\"Ink Waves\": style image scenes/x.png does not exist".into()];
    assert_eq!(
        refused.verdict(now),
        Ok("painting \"Swirling Night\"; not shown: \"Ink Waves\": style image scenes/x.png does not exist".into())
    );
    assert!(refused.prometheus(now).contains("gallery_artworks_refused 1\n"));
    // A voice that cannot be heard (no loudspeaker) is said too.
    let mut mute = h.clone();
    mute.voice_silent = Some("no audio output device (fix: connect the loudspeakers)".into());
    assert_eq!(
        mute.verdict(now),
        Ok("painting \"Swirling Night\"; voice silent: no audio output device (fix: connect the loudspeakers)".into())
    );
    assert!(mute.prometheus(now).contains("gallery_voice_silent 1\n"));
    let mut camera = h.clone();
    camera.camera_problem = Some("lost (unplugged)".into());
    assert_eq!(camera.verdict(now), Err("camera: lost (unplugged)".into()));
    let mut failed = camera.clone();
    failed.worker_failed = Some("weights missing".into());
    assert_eq!(failed.verdict(now), Err("the painter has stopped: weights missing".into()));
    // A hung worker and a frozen display, seen from later.
    let later = now + WORKER_STALE + Duration::from_secs(1);
    let mut hung = h.clone();
    hung.render_heartbeat = later;
    assert!(hung.verdict(later).unwrap_err().contains("has not responded for 31 s"));
    assert!(h.verdict(later).unwrap_err().contains("the display has not updated for 31 s"));
}

#[test]
fn metrics_are_openmetrics_text_with_histograms_and_the_farms_figures() {
    let now = Instant::now();
    let mut h = healthy(now);
    h.paintings_finished = 7;
    h.camera_problem = Some("lost".into());
    let text = h.prometheus(now);
    // OpenMetrics: the family is named without `_total`, its sample with it.
    assert!(text.contains("# TYPE gallery_paintings_finished counter\ngallery_paintings_finished_total 7\n"), "{text}");
    assert!(text.contains("gallery_up 0\n") && text.contains("gallery_camera_ok 0\n"), "{text}");
    for name in [
        "display_fps",
        "engine_iterations_per_second",
        "worker_restarts_total",
        "dropped_frames_total",
        "visitors_total",
    ] {
        assert!(text.contains(&format!("\ngallery_{name} ")), "{name} missing:\n{text}");
    }
    // Every sample line is `name value` with a number; OpenMetrics ends with `# EOF`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once(' ').unwrap();
        assert!(name.starts_with("gallery_") && value.parse::<f64>().is_ok(), "{line}");
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
    // Capture to first painting is a distribution kept since start.
    assert!(text.contains("# TYPE gallery_capture_to_first_painting_seconds histogram\n"), "{text}");
    for s in [0.3, 0.4, 7.0] {
        h.histograms.capture_to_first_painting.observe(s);
    }
    let text = h.prometheus(now);
    assert!(text.contains("gallery_capture_to_first_painting_seconds_count 3\n"), "{text}");
    assert!(text.contains("gallery_capture_to_first_painting_seconds_bucket{le=\"0.4\"} 2\n"), "{text}");
    // The farm's figures only on a kiosk with a farm.
    assert!(!text.contains("farm_"), "{text}");
    h.farm = Some(gallery_painter::painting::FarmStatus {
        connected: true,
        painting_locally: true,
        fallbacks: 2,
        redelivered: 1,
        jobs_submitted: 9,
        painters: vec![Default::default(); 3],
        ..Default::default()
    });
    h.histograms.farm_queue_wait.observe(1.5);
    let text = h.prometheus(now);
    for line in [
        "gallery_farm_connected 1",
        "gallery_farm_painting_locally 1",
        "gallery_farm_painters_alive 3",
        "gallery_farm_jobs_total 9",
        "gallery_farm_jobs_redelivered_total 1",
        "gallery_farm_local_fallbacks_total 2",
        "gallery_farm_queue_wait_seconds_count 1",
    ] {
        assert!(text.contains(&format!("\n{line}\n")), "{line} missing:\n{text}");
    }
    // GPU memory only where the engine runs on CUDA (the worker fills it from the allocator).
    assert!(!text.contains("gpu_memory"), "no GPU figures on a CPU:\n{text}");
    h.gpu_memory = Some(gallery_painter::engine::cuda::MemoryStats {
        allocated: 3 << 20,
        peak_allocated: 5 << 20,
        reserved: 8 << 20,
    });
    let text = h.prometheus(now);
    assert!(text.contains("\ngallery_gpu_memory_allocated_bytes 3145728\n"), "{text}");
    assert!(text.contains("\ngallery_gpu_memory_peak_allocated_bytes 5242880\n"), "{text}");
    assert!(text.contains("\ngallery_gpu_memory_reserved_bytes 8388608\n"), "{text}");
}

#[test]
fn only_loopback_addresses_unless_allowed() {
    assert!(check_address("127.0.0.1:9107", false).is_ok());
    assert!(check_address("[::1]:9107", false).is_ok());
    let e = check_address("0.0.0.0:9107", false).unwrap_err();
    assert!(e.contains("reachable from other machines") && e.contains("allow_remote_health"), "{e}");
    assert!(check_address("0.0.0.0:9107", true).is_ok());
    assert!(check_address("localhost", false).unwrap_err().contains("IP:PORT"));
}

/// Sends raw bytes (one request: the connection closes after it), returns the status line and body.
fn exchange(addr: std::net::SocketAddr, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server keeps connections alive for browsers: ask it to close after this one.
    let request = request.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

#[test]
fn the_endpoint_answers_health_and_metrics_and_rejects_the_rest() {
    let board = Arc::new(Mutex::new(healthy(Instant::now())));
    let server =
        serve("127.0.0.1:0".parse().unwrap(), health_routes(board.clone(), false), Default::default()).unwrap();
    let addr = server.address;
    let get = |path: &str| exchange(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
    let (status, body) = get("/health");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "ok: painting \"Swirling Night\"\n");
    let (status, body) = get("/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("gallery_up 1"), "{body}");
    // The camera goes: 503 with the reason.
    board.lock().unwrap().camera_problem = Some("lost (unplugged)".into());
    let (status, body) = get("/health");
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(body, "unhealthy: camera: lost (unplugged)\n");
    // Bad requests get 4xx.
    assert_eq!(get("/admin").0, "HTTP/1.1 404 Not Found");
    assert_eq!(
        exchange(addr, "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").0,
        "HTTP/1.1 405 Method Not Allowed"
    );
    assert!(exchange(addr, "NONSENSE\r\n\r\n").0.starts_with("HTTP/1.1 400"));
}

#[test]
fn slow_clients_cannot_hold_the_endpoint() {
    let board = Arc::new(Mutex::new(healthy(Instant::now())));
    let server = serve("127.0.0.1:0".parse().unwrap(), health_routes(board, false), Default::default()).unwrap();
    let addr = server.address;
    // Connections that never send a request fill every slot of this address ...
    let idle: Vec<TcpStream> = (0..LIMITS.per_address).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    // ... one more is closed at once instead of queueing ...
    let (status, _) = exchange(addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, "", "a connection over the limit was served");
    // ... and the idle ones are dropped after the header timeout, so the endpoint answers again.
    let start = Instant::now();
    loop {
        let (status, _) = exchange(addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        if status == "HTTP/1.1 200 OK" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(8), "still blocked after {:?}", start.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(idle);
}

#[test]
fn the_fault_schedule_parses_and_explains_mistakes() {
    let f = parse("render-hang@120:30, worker-panic@60,worker-hang@200:40").unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!((f[0].at, f[0].kind), (Duration::from_secs(60), FaultKind::Painting(Fault::Panic)));
    assert_eq!(f[1].kind, FaultKind::RenderHang(Duration::from_secs(30)));
    assert_eq!(f[2].kind, FaultKind::Painting(Fault::Hang(Duration::from_secs(40))));
    assert!(parse("").unwrap().is_empty());
    let e = parse("worker-hang@10").unwrap_err();
    assert!(e.contains("`worker-hang@10`") && e.contains("worker-hang@T:D"), "{e}");
    assert!(parse("reboot@5").is_err());
    // Numbers that would panic where they become a Duration are mistakes, said as such.
    for bad in ["worker-panic@inf", "worker-panic@1e30", "worker-hang@5:NaN", "render-hang@5:-1", "worker-oom@1e6"] {
        let e = parse(bad).unwrap_err();
        assert!(e.contains(bad) && e.contains("0..604800"), "{e}");
    }
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut std::process::Command) -> (bool, String, String) {
    let o = cmd.output().unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
}

#[test]
fn the_unit_file_passes_systemd_analyze_verify() {
    let (ok, unit, err) =
        run(std::process::Command::new("bash").arg("scripts/install-service.sh").arg("--print").current_dir(root()));
    assert!(ok, "{err}");
    for directive in
        ["Type=notify", "WatchdogSec=60", "Restart=always", "RestartSec=5", "MemoryMax=", "--status-file %t/"]
    {
        assert!(unit.contains(directive), "{directive} missing:\n{unit}");
    }
    // Placeholders look like @NAME@ (system call groups like @clock are systemd's own).
    let placeholder =
        unit.split('@').skip(1).any(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
    assert!(!placeholder, "a placeholder was left:\n{unit}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gallery-painter.service");
    std::fs::write(&path, &unit).unwrap();
    // The unit names the binary the tests run; systemd-analyze checks it is executable.
    assert!(unit.contains(env!("CARGO_BIN_EXE_gallery-painter")), "{unit}");
    let (ok, out, err) = run(std::process::Command::new("systemd-analyze").arg("verify").arg(&path));
    // Unknown values are only warnings to systemd: any output at all fails the test.
    assert!(ok && out.is_empty() && err.is_empty(), "systemd-analyze verify:\n{out}{err}");
    // Hardened with what cannot take the camera, GPU or display away; systemd's own rating.
    for directive in ["NoNewPrivileges=yes", "UMask=0077", "RestrictNamespaces=yes", "SystemCallErrorNumber=EPERM"] {
        assert!(unit.contains(directive), "{directive} missing:\n{unit}");
    }
    assert!(!unit.lines().any(|l| l.starts_with("PrivateDevices=")), "PrivateDevices hides the camera and the GPU");
    let (_, out, err) =
        run(std::process::Command::new("systemd-analyze").args(["security", "--offline=yes"]).arg(&path));
    let level: f64 = out
        .lines()
        .chain(err.lines())
        .find_map(|l| l.split("Overall exposure level for gallery-painter.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{out}{err}"));
    assert!(level <= 7.0, "systemd-analyze security rates the unit {level}, more than 7.0");
}

#[test]
fn the_farm_painter_unit_is_verified_hardened_and_carries_its_arguments_quoted() {
    let (ok, unit, err) = run(std::process::Command::new("bash")
        .arg("scripts/install-painter.sh")
        .args(["--print", "--no-build", "--nats", "tls://farm.local:4222", "--user", "painter"])
        .args(["--password-file", "/etc/gallery painter/farm/painter", "--ca", "/etc/gp/ca.pem", "--run-as", "gallery"])
        .args(["--identity", "/etc/gp/identities/painter"])
        .current_dir(root()));
    assert!(ok, "{err}");
    assert!(unit.contains("\"--identity\" \"/etc/gp/identities/painter\""), "{unit}");
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    // Each argument quoted for systemd: the space in the path stays inside one argument.
    assert!(exec.contains("\"--password-file\" \"/etc/gallery painter/farm/painter\""), "{exec}");
    assert!(unit.contains("User=gallery"), "{unit}");
    assert!(exec.contains("\"--nats\" \"tls://farm.local:4222\""), "{exec}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gallery-painter-painter.service");
    std::fs::write(&path, &unit).unwrap();
    let (ok, out, err) = run(std::process::Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(ok && out.is_empty() && err.is_empty(), "systemd-analyze verify:\n{out}{err}\n{unit}");
    let (_, out, err) =
        run(std::process::Command::new("systemd-analyze").args(["security", "--offline=yes"]).arg(&path));
    let level: f64 = out
        .lines()
        .chain(err.lines())
        .find_map(|l| l.split("Overall exposure level for gallery-painter-painter.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{out}{err}"));
    // A system service on a GPU box can be closed in further than the kiosk's (7.0).
    assert!(level <= 4.0, "systemd-analyze security rates the painter unit {level}");
    // Without --nats it says what is missing.
    let (ok, _, err) = run(std::process::Command::new("bash")
        .arg("scripts/install-painter.sh")
        .args(["--print", "--no-build"])
        .current_dir(root()));
    assert!(!ok && err.contains("--nats URL is required"), "{err}");
    // A user without an identity: the painter would refuse to start; said at once.
    let (ok, _, err) = run(std::process::Command::new("bash")
        .arg("scripts/install-painter.sh")
        .args(["--print", "--no-build", "--nats", "tls://farm.local:4222", "--user", "painter"])
        .current_dir(root()));
    assert!(!ok && err.contains("--identity"), "{err}");
}

/// `scripts/install-service.sh` run from `root`, with no user manager reachable (an empty
/// runtime folder and no session bus), so a test never enables a service on this machine.
fn install_service(root: &Path, unit_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let runtime = tempfile::tempdir().unwrap();
    run(std::process::Command::new("bash")
        .arg(root.join("scripts/install-service.sh"))
        .args(args)
        .env("UNIT_DIR", unit_dir)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .current_dir(root))
}

#[test]
fn install_service_is_idempotent_and_uninstalls_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let install = |args: &[&str]| install_service(&root(), dir.path(), args);
    let (ok, out, err) = install(&["--no-build"]);
    assert!(ok && out.contains("wrote"), "{out}{err}");
    let unit = dir.path().join("gallery-painter.service");
    let wants = dir.path().join("graphical-session.target.wants/gallery-painter.service");
    assert!(unit.is_file() && out.contains("no user manager is running"), "{out}");
    // Enabled the way systemctl would: a link to the unit, which resolves.
    assert_eq!(std::fs::canonicalize(&wants).unwrap(), std::fs::canonicalize(&unit).unwrap());
    let (ok, out, err) = install(&["--no-build"]);
    assert!(ok && out.contains("up to date"), "{out}{err}");
    let (ok, out, err) = install(&["--uninstall"]);
    assert!(ok && out.contains("removed"), "{out}{err}");
    // Gone, the link too (`exists()` would be false for a dangling link as well).
    assert!(unit.symlink_metadata().is_err() && wants.symlink_metadata().is_err());
}

#[test]
fn install_service_works_from_a_folder_with_spaces_and_shell_and_systemd_specials() {
    let base = tempfile::tempdir().unwrap();
    // The project copied where a museum might put it.
    let project = base.path().join("Gallery & Co | 100% $HOME");
    for dir in ["scripts/lib", "config/systemd", "target/debug"] {
        std::fs::create_dir_all(project.join(dir)).unwrap();
    }
    for file in ["scripts/install-service.sh", "scripts/lib/systemd-quote.sh", "config/systemd/gallery-painter.service"]
    {
        std::fs::copy(root().join(file), project.join(file)).unwrap();
    }
    std::fs::copy(env!("CARGO_BIN_EXE_gallery-painter"), project.join("target/debug/gallery-painter")).unwrap();
    let units = base.path().join("units");
    let (ok, out, err) = install_service(&project, &units, &["--no-build"]);
    assert!(ok && out.contains("wrote"), "{out}{err}");
    let unit = std::fs::read_to_string(units.join("gallery-painter.service")).unwrap();
    // The script verified it before installing; verify again and read what systemd will run.
    let (ok, vout, verr) =
        run(std::process::Command::new("systemd-analyze").arg("verify").arg(units.join("gallery-painter.service")));
    assert!(ok && vout.is_empty() && verr.is_empty(), "systemd-analyze verify:\n{vout}{verr}\n{unit}");
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    let program = project.join("target/debug/gallery-painter").display().to_string();
    assert!(exec.starts_with(&format!("ExecStart=\"{}\" run ", program.replace('%', "%%"))), "{exec}");
    let config = project.join("config/installation.ron").display().to_string();
    assert!(exec.contains(&format!("--config \"{}\"", config.replace('%', "%%").replace('$', "$$"))), "{exec}");
    // A path systemd cannot run at all is refused before anything is written.
    let quoted = base.path().join("say \"cheese\"");
    std::fs::create_dir_all(quoted.join("scripts/lib")).unwrap();
    for file in ["scripts/install-service.sh", "scripts/lib/systemd-quote.sh"] {
        std::fs::copy(root().join(file), quoted.join(file)).unwrap();
    }
    let other_units = base.path().join("other-units");
    let (ok, _, err) = install_service(&quoted, &other_units, &["--no-build"]);
    assert!(!ok && err.contains("fix: move the project"), "{err}");
    assert!(!other_units.join("gallery-painter.service").exists());
}

#[test]
fn status_prints_one_screen_from_the_status_file() {
    use gallery_painter::service::status::StatusReport;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("status.ron");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let report = StatusReport {
        written_unix_s: now,
        health: "unhealthy: camera: lost (unplugged)".into(),
        caption: "Ink Waves - Gallery Painter studio, 2026".into(),
        artwork_index: 2,
        worker_state: "Painting".into(),
        iterations_per_second: 1.5,
        paintings_finished: 12,
        worker_restarts: 1,
        capture_state: "Lost".into(),
        camera_frames: 4200,
        bad_frames: 3,
        journey: "Attract".into(),
        visitors: 9,
        faces_in_view: 1,
        face_detection_ms: 15.7,
        ..StatusReport::default()
    };
    std::fs::write(&path, ron::ser::to_string_pretty(&report, Default::default()).unwrap()).unwrap();
    let bin = env!("CARGO_BIN_EXE_gallery-painter");
    let (ok, out, err) = run(std::process::Command::new(bin).args(["status", "--file"]).arg(&path));
    assert!(ok, "{err}");
    for want in [
        "health     unhealthy: camera: lost (unplugged)",
        "artwork    Ink Waves - Gallery Painter studio, 2026 (#3)",
        "painter    Painting, 1.50 it/s, 0 snapshots, 12 paintings finished, 1 restarts",
        "camera     Lost",
        "4200 frames",
        "3 bad",
        "journey    Attract, presence , 9 visitors",
        "faces      1 in view (15.7 ms per detection)",
    ] {
        assert!(out.contains(want), "`{want}` missing:\n{out}");
    }
    assert!(!out.contains("STALE"), "{out}");
    // A report a minute old: the app stopped writing it, and the screen says so.
    let old = StatusReport { written_unix_s: now - 60.0, ..report };
    std::fs::write(&path, ron::ser::to_string_pretty(&old, Default::default()).unwrap()).unwrap();
    let (ok, out, err) = run(std::process::Command::new(bin).args(["status", "--file"]).arg(&path));
    assert!(ok, "{err}");
    assert!(out.contains("written 60") && out.contains("STALE"), "{out}");
    // No status file: says where it looked and what to do.
    let (ok, _, err) = run(std::process::Command::new(bin).args(["status", "--file", "/nonexistent/status.ron"]));
    assert!(!ok && err.contains("/nonexistent/status.ron") && err.contains("fix:"), "{err}");
}

#[test]
fn saved_state_round_trips_and_refuses_what_it_cannot_use() {
    use gallery_painter::service::state::{Restored, SavedState, VERSION, load, save, scene_fingerprint};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/state.ron");
    let titles = vec!["Swirling Night".to_string(), "Ink Waves".to_string()];
    let fp = scene_fingerprint("/srv/scenes/default.ron", &titles);
    assert_ne!(fp, scene_fingerprint("/srv/scenes/other.ron", &titles));
    assert_eq!(load(&path, fp, 2), Ok(None), "no state yet");
    let s = SavedState {
        version: VERSION,
        scene_fingerprint: fp,
        artwork_index: 1,
        artwork_elapsed_s: 12.5,
        pick_remaining_s: Some(40.0),
        visitors: 17,
        paintings_finished: 30,
        saved_unix_s: 1.0,
    };
    save(&path, &s).unwrap();
    let whole = |state: &SavedState| Ok(Some(Restored { state: state.clone(), same_scene: true }));
    let totals_only = |state: &SavedState| Ok(Some(Restored { state: state.clone(), same_scene: false }));
    assert_eq!(load(&path, fp, 2), whole(&s));
    // Another scene, or fewer artworks than the saved index: the position is not used, the
    // installation's totals are.
    assert_eq!(load(&path, fp ^ 1, 2), totals_only(&s));
    assert_eq!(load(&path, fp, 1), totals_only(&s));
    // Another version of the file: not read at all, and said so.
    let future = SavedState { version: VERSION + 1, ..s.clone() };
    save(&path, &future).unwrap();
    let e = load(&path, fp, 2).unwrap_err();
    assert!(e.contains("another version") && e.contains(&format!("({})", VERSION + 1)), "{e}");
    save(&path, &s).unwrap();
    // Corrupt (a crash of the disk, a hand edit): said, not used.
    std::fs::write(&path, "(version: 1, scene_fing").unwrap();
    let e = load(&path, fp, 2).unwrap_err();
    assert!(e.contains("corrupt") && e.contains("state.ron"), "{e}");
    // A symlink at the path is replaced by the new file, not followed to its target.
    let target = dir.path().join("elsewhere.txt");
    std::fs::write(&target, "do not touch").unwrap();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    save(&path, &s).unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "do not touch");
    assert!(!path.is_symlink());
    assert_eq!(load(&path, fp, 2), whole(&s));
}
