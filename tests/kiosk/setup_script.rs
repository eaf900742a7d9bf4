//! scripts/setup.sh is idempotent: a second run finds everything in place and changes nothing.
//! It runs offline and without apt here: stand-ins for apt-get, sudo, curl and wget come
//! first on PATH and pip has no index, so a run that tried to install or download fails
//! the test instead of touching the machine.

use crate::common;

use std::os::unix::fs::PermissionsExt;

#[test]
fn second_setup_run_changes_nothing_and_needs_neither_apt_nor_the_network() {
    let root = common::root();
    let weights = root.join("assets/models/vgg16-caffe.safetensors");
    let before = std::fs::metadata(&weights).and_then(|m| m.modified()).expect("weights exist after setup");
    let venv_before = std::fs::metadata(root.join(".venv")).and_then(|m| m.modified()).unwrap();

    let guard = tempfile::tempdir().unwrap();
    let calls = guard.path().join("calls.log");
    for tool in ["apt-get", "apt", "sudo", "curl", "wget"] {
        let stub = guard.path().join(tool);
        std::fs::write(&stub, format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\nexit 97\n", calls.display())).unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", guard.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/setup.sh"))
        .current_dir(&root)
        .env("PATH", path)
        .env("PIP_NO_INDEX", "1")
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let called = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(called.is_empty(), "setup called out on a second run:\n{called}\n{log}");
    for phase in ["ok (already installed)", "ok (already installed, ", "ok (already converted and verified)"] {
        assert!(log.contains(phase), "missing `{phase}` in:\n{log}");
    }
    assert!(!log.contains("installing:") && !log.contains("converted ("), "{log}");
    assert_eq!(std::fs::metadata(&weights).unwrap().modified().unwrap(), before);
    assert_eq!(std::fs::metadata(root.join(".venv")).unwrap().modified().unwrap(), venv_before);
}
