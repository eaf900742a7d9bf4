//! Link-time settings tch's own build scripts do not pass on to the final binary.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        build_test_camera();
    }
    // torch-sys (links = "tch") exports the libtorch lib dir; without an rpath the
    // binary would need LD_LIBRARY_PATH to start.
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
    // With `--as-needed` the linker drops libtorch_cuda (nothing references it by
    // symbol), and then the CUDA backend never registers.
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-ltorch");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

/// The V4L2 test camera: a shared library (cc builds static ones, so the compiler it finds is
/// called directly), placed next to the binaries so `gallery-painter test-camera` finds it.
fn build_test_camera() {
    use std::path::PathBuf;
    let source = "testcam/v4l2_testcam.c";
    println!("cargo:rerun-if-changed={source}");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lib = out.join("libgp_testcam.so");
    let compiler = cc::Build::new().get_compiler();
    let status = compiler
        .to_command()
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o"])
        .arg(&lib)
        .arg(source)
        .args(["-ldl", "-lpthread"])
        .status()
        .expect("run the C compiler for the test camera");
    assert!(status.success(), "compiling {source} failed");
    // OUT_DIR is target/<profile>/build/<package>-<hash>/out.
    if let Some(profile_dir) = out.ancestors().nth(3) {
        let _ = std::fs::copy(&lib, profile_dir.join("libgp_testcam.so"));
    }
    println!("cargo:rustc-env=GP_TESTCAM_LIB={}", lib.display());
}
