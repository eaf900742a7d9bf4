//! The farm's real parts for the tests: Debian's nats-server from the project's config
//! template, and `gallery-painter painter` processes (this build's binary).

use std::path::Path;

pub use super::local_server::{LocalServer as NatsServer, PainterProcess};

/// The kiosks the tests use, set up on every server as `farm-setup` would.
pub const KIOSKS: [&str; 4] = ["hall-a", "hall-b", "hall-c", "hall-live"];

pub fn server() -> NatsServer {
    server_with("")
}

pub fn server_with(extra: &str) -> NatsServer {
    super::browser::need("nats-server");
    let mut server = NatsServer::start(&super::root(), extra, None).unwrap();
    server.set_up_farm(&KIOSKS).unwrap();
    server
}

/// With TLS and users from `scripts/farm-certs.sh` (made in `certs`).
pub fn secure_server(certs: &Path) -> NatsServer {
    secure_server_with(certs, "")
}

/// The same, with more config (`@STORE_DIR@` stands for the server's store).
pub fn secure_server_with(certs: &Path, extra: &str) -> NatsServer {
    super::browser::need("nats-server");
    NatsServer::start(&super::root(), extra, Some(&certs.join("security.conf"))).unwrap()
}

/// A painter at most 256 px, logging at info into `dir`.
pub fn painter(url: &str, name: &str, dir: &Path, faults: Option<&str>, args: &[&str]) -> PainterProcess {
    let mut env = vec![("RUST_LOG", "info")];
    if let Some(f) = faults {
        env.push((gallery_painter::service::faults::ENV, f));
    }
    let mut all = vec!["--max-size", "256"];
    all.extend_from_slice(args);
    PainterProcess::start(Path::new(env!("CARGO_BIN_EXE_gallery-painter")), &super::root(), url, name, dir, &env, &all)
        .unwrap()
}
