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
        build_cuda_shim(std::path::Path::new(&lib));
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

/// The CUDA shim (src/engine/cuda_shim.cpp): graphs, allocator statistics, TF32, profiler.
/// A shared library beside the binaries, loaded at run time only on a CUDA device, so the
/// binary itself never depends on the CUDA libraries. Needs the torch wheel's headers and
/// the CUDA runtime headers (nvidia-cuda-runtime + nvidia-cuda-crt, scripts/setup.sh).
fn build_cuda_shim(torch_lib: &std::path::Path) {
    use std::path::PathBuf;
    let source = "src/engine/cuda_shim.cpp";
    println!("cargo:rerun-if-changed={source}");
    // .libtorch is a symlink into the venv: the CUDA headers sit beside the real torch/.
    let torch_lib = &std::fs::canonicalize(torch_lib).unwrap_or_else(|_| torch_lib.to_path_buf());
    let torch = torch_lib.parent().expect("torch/lib has a parent");
    let cuda = torch.parent().map(|site| site.join("nvidia/cu13")).unwrap_or_default();
    let missing: Vec<PathBuf> = [
        torch.join("include/ATen/cuda/CUDAGraph.h"),
        cuda.join("include/cuda_runtime_api.h"),
        cuda.join("include/crt/host_config.h"),
    ]
    .into_iter()
    .filter(|p| !p.is_file())
    .collect();
    if !missing.is_empty() {
        println!(
            "cargo:warning=the CUDA shim is not built ({} missing; rerun scripts/setup.sh): on a GPU the engine runs without CUDA graphs and GPU memory figures",
            missing[0].display()
        );
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lib = out.join("libgp_cuda.so");
    let compiler = cc::Build::new().cpp(true).get_compiler();
    let status = compiler
        .to_command()
        .args(["-std=c++17", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-D_GLIBCXX_USE_CXX11_ABI=1"])
        // -isystem: warnings in torch's and CUDA's own headers are not ours to fix.
        .arg("-isystem")
        .arg(torch.join("include"))
        .arg("-isystem")
        .arg(torch.join("include/torch/csrc/api/include"))
        .arg("-isystem")
        .arg(cuda.join("include"))
        .arg("-o")
        .arg(&lib)
        .arg(source)
        .arg(format!("-L{}", torch_lib.display()))
        .arg(format!("-L{}", cuda.join("lib").display()))
        .args(["-ltorch_cuda", "-lc10_cuda", "-ltorch_cpu", "-lc10", "-l:libcudart.so.13"])
        .status()
        .expect("run the C++ compiler for the CUDA shim");
    assert!(status.success(), "compiling {source} failed");
    if let Some(profile_dir) = out.ancestors().nth(3) {
        let _ = std::fs::copy(&lib, profile_dir.join("libgp_cuda.so"));
    }
}
