//! scripts/setup.sh is idempotent: a second run finds everything in place and changes nothing.

mod common;

#[test]
fn second_setup_run_changes_nothing() {
    let root = common::root();
    let weights = root.join("assets/models/vgg16-caffe.safetensors");
    let before = std::fs::metadata(&weights).and_then(|m| m.modified()).expect("weights exist after setup");
    let venv_before = std::fs::metadata(root.join(".venv")).and_then(|m| m.modified()).unwrap();
    let out =
        std::process::Command::new("bash").arg(root.join("scripts/setup.sh")).current_dir(&root).output().unwrap();
    let log = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    for phase in ["ok (already installed)", "ok (already installed, ", "ok (already converted and verified)"] {
        assert!(log.contains(phase), "missing `{phase}` in:\n{log}");
    }
    assert!(!log.contains("installing:") && !log.contains("converted ("), "{log}");
    assert_eq!(std::fs::metadata(&weights).unwrap().modified().unwrap(), before);
    assert_eq!(std::fs::metadata(root.join(".venv")).unwrap().modified().unwrap(), venv_before);
}
