//! A kiosk's (or a painter's) credentials in an attacker's hands, on a farm set up exactly as
//! scripts/farm-certs.sh and `farm-setup` make it, with real nats-servers over TLS and real
//! painter processes. The server checks the subject a client publishes to, not the reply
//! subject it names, and JetStream answers on that reply subject with the server's own
//! rights: the attacker below is a plain NATS client that uses exactly that.

use crate::common;
use crate::farm::{farm, finished, paint, wait_for, wait_painters};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;
use gallery_painter::config::{EngineConfig, RemoteConfig};
use gallery_painter::engine::{StyleParams, imageio};
use gallery_painter::farm::protocol::{self, JobSpec, JobStyle, Progress};
use gallery_painter::ids::sha256_hex;
use gallery_painter::painting::{Event, WorkerHandle};

/// A farm on TLS with the users of scripts/farm-certs.sh, the setup run by `admin`.
pub(crate) struct SecureFarm {
    pub certs: tempfile::TempDir,
    pub server: common::nats::NatsServer,
    pub logs: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
}

pub(crate) const KIOSKS: [&str; 3] = ["hall-a", "hall-b", "hall-c"];

impl SecureFarm {
    /// `extra`: more server config (`@STORE_DIR@` stands for the server's store).
    pub fn start(painters: &[&str], extra: &str) -> SecureFarm {
        let certs = tempfile::tempdir().unwrap();
        let mut args = vec!["--host", "127.0.0.1"];
        for k in KIOSKS {
            args.extend(["--kiosk", k]);
        }
        for p in painters {
            args.extend(["--painter", p]);
        }
        farm_certs(certs.path(), &args);
        let server = common::nats::secure_server_with(certs.path(), extra);
        let report = farm_setup(&server.url, certs.path(), &KIOSKS);
        assert!(report.contains("GP_JOBS"), "{report}");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        SecureFarm { certs, server, logs: tempfile::tempdir().unwrap(), rt }
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.certs.path().join(name)
    }

    pub fn password(&self, user: &str) -> PathBuf {
        self.file("passwords").join(user)
    }

    pub fn identity(&self, name: &str) -> PathBuf {
        self.file("identities").join(name)
    }

    /// A painter process with its own user and identity.
    pub fn painter(&self, name: &str) -> common::nats::PainterProcess {
        let (pw, ca, id) = (self.password(name), self.file("ca.pem"), self.identity(name));
        let args = ["--user", name, "--password-file", pw.to_str().unwrap(), "--ca", ca.to_str().unwrap()];
        common::nats::painter(
            &self.server.url,
            name,
            self.logs.path(),
            None,
            &[&args[..], &["--identity", id.to_str().unwrap()]].concat(),
        )
    }

    pub fn remote(&self, kiosk: &str) -> RemoteConfig {
        RemoteConfig {
            url: self.server.url.clone(),
            kiosk: kiosk.into(),
            user: Some(kiosk.into()),
            password_file: Some(self.password(kiosk)),
            ca: Some(self.file("ca.pem")),
            identity: Some(self.identity(kiosk)),
            fallback_after_s: 60.0,
            ..Default::default()
        }
    }

    /// The attacker's client: the credentials of `user`, nothing of the project's farm code.
    pub fn client(&self, user: &str) -> async_nats::Client {
        let password = std::fs::read_to_string(self.password(user)).unwrap();
        let options = async_nats::ConnectOptions::new()
            .user_and_password(user.into(), password.trim().into())
            .custom_inbox_prefix(protocol::inbox_prefix(user))
            .add_root_certificates(self.file("ca.pem"))
            .require_tls(true);
        self.rt.block_on(options.connect(self.server.url.clone())).unwrap()
    }

    /// What stands on `kiosk`'s subject of the queue now (its headers), as the setup role reads it.
    pub fn queued(&self, kiosk: &str) -> Option<async_nats::HeaderMap> {
        let admin = self.client("admin");
        self.rt.block_on(async {
            let js = jetstream::new(admin);
            let stream = js.get_stream(protocol::JOBS_STREAM).await.unwrap();
            stream.get_last_raw_message_by_subject(&protocol::job_subject(kiosk)).await.ok().map(|m| m.headers)
        })
    }

    /// The job `kiosk` has on the queue now, as the setup role reads it.
    pub fn queued_job(&self, kiosk: &str) -> JobSpec {
        let admin = self.client("admin");
        self.rt.block_on(async {
            let js = jetstream::new(admin);
            let end = Instant::now() + Duration::from_secs(30);
            loop {
                let stream = js.get_stream(protocol::JOBS_STREAM).await.unwrap();
                if let Ok(m) = stream.get_last_raw_message_by_subject(&protocol::job_subject(kiosk)).await
                    && let Some(spec) = m.headers.get(protocol::H_SPEC)
                {
                    return serde_json::from_str(spec.as_str()).unwrap();
                }
                assert!(Instant::now() < end, "no job of {kiosk} on the queue");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }
}

pub(crate) fn farm_certs(dir: &Path, args: &[&str]) {
    let made = std::process::Command::new("bash")
        .arg(common::root().join("scripts/farm-certs.sh"))
        .arg(dir)
        .args(args)
        .output();
    let made = made.unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
}

/// `gallery-painter farm-setup` as the setup role; its report.
pub(crate) fn farm_setup(url: &str, certs: &Path, kiosks: &[&str]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gallery-painter"));
    cmd.args(["farm-setup", "--nats", url, "--user", "admin", "--password-file"])
        .arg(certs.join("passwords/admin"))
        .arg("--ca")
        .arg(certs.join("ca.pem"));
    for k in kiosks {
        cmd.args(["--kiosk", k]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "farm-setup failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The attacker's relay: stores `payload` with `headers` in a subject it may write (its own
/// style store, or for a painter a lease key), then asks JetStream for it with `reply` set to
/// the subject it may not write. The server delivers the stored message there.
fn relay(
    rt: &tokio::runtime::Runtime,
    client: &async_nats::Client,
    (stream, subject): (&str, &str),
    headers: async_nats::HeaderMap,
    payload: Bytes,
    reply: &str,
) {
    rt.block_on(async {
        client.publish_with_headers(subject.to_string(), headers, payload).await.unwrap();
        client.flush().await.unwrap();
        // Stored before it is asked for.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let get = format!("$JS.API.DIRECT.GET.{stream}.{subject}");
        client.publish_with_reply(get, reply.to_string(), Bytes::new()).await.unwrap();
        client.flush().await.unwrap();
    });
}

/// hall-a's own style store: a subject it may write.
fn own_store(name: &str) -> (&'static str, String) {
    ("OBJ_gp-styles-hall-a", format!("$O.gp-styles-hall-a.C.{name}"))
}

fn red(w: u32, h: u32) -> Vec<u8> {
    imageio::encode_png(&image::RgbImage::from_pixel(w, h, image::Rgb([255, 0, 0])))
}

fn is_red(img: &image::RgbImage) -> bool {
    img.pixels().all(|p| p.0 == [255, 0, 0])
}

fn kiosk_with(remote: RemoteConfig, iterations: u32) -> WorkerHandle {
    crate::farm::kiosk_as(remote, iterations)
}

/// The painter's log says `text` within `secs`.
fn log_says(p: &common::nats::PainterProcess, text: &str, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while !p.log().contains(text) {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

#[test]
fn a_kiosk_cannot_put_a_forged_painting_on_another_kiosks_screen_nor_cancel_its_painting() {
    let f = SecureFarm::start(&["p1"], "");
    let _p1 = f.painter("p1");
    let b = kiosk_with(f.remote("hall-b"), 300);
    wait_painters(&b, 1);
    paint(&b, 1);
    wait_for(&b, 60, "p1 painting hall-b's visitor", |e, _| matches!(e, Event::Snapshot(_)).then_some(()));
    // The attacker knows the job's id (here from the queue, as the setup role; the last review
    // read it from the painters' announcements).
    let job = f.queued_job("hall-b").job;
    let attacker = f.client("hall-a");
    let forged = Progress {
        job: job.clone(),
        attempt: 1,
        iteration: 300,
        total_iterations: 300,
        levels: 1,
        painter: "p1".into(),
        finished: true,
        ..Default::default()
    };
    let mut headers = forged.to_headers();
    headers.insert("Gp-Mac", "00".repeat(32).as_str());
    relay(
        &f.rt,
        &attacker,
        (own_store("forge1").0, &own_store("forge1").1),
        headers,
        red(96, 72).into(),
        &protocol::result_subject("hall-b", &job),
    );
    // And tries to stop the real painting with a cancel in hall-b's name (the job's id, and a
    // proof it cannot make).
    for (name, payload) in [("cancel1", job.clone()), ("cancel2", format!("{job} {}", "00".repeat(32)))] {
        relay(
            &f.rt,
            &attacker,
            (own_store(name).0, &own_store(name).1),
            async_nats::HeaderMap::new(),
            Bytes::from(payload),
            &protocol::cancel_subject("hall-b"),
        );
    }
    let painting = wait_for(&b, 240, "hall-b's painting", finished(1));
    assert!(!is_red(&painting.image), "hall-b showed the attacker's red square as its visitor's painting");
    assert_eq!(painting.iteration, 300, "the painting shown is not the painter's finished one");
    let status = farm(&b.status());
    assert!(!status.painting_locally && status.fallbacks == 0, "the real painter's painting: {status:?}");
    assert!(status.forgeries >= 1, "the forged painting was not counted as a forgery: {status:?}");
    assert!(status.describe().contains("FORGED messages dropped"), "staff are not told: {}", status.describe());
}

#[test]
fn a_kiosk_cannot_have_a_painter_paint_a_job_in_another_kiosks_name() {
    let f = SecureFarm::start(&["p1"], "");
    let p1 = f.painter("p1");
    let b = kiosk_with(f.remote("hall-b"), 12);
    wait_painters(&b, 1);
    let attacker = f.client("hall-a");
    let style = std::fs::read(common::style_path("primary_rhythm.png")).unwrap();
    // hall-b's real style, so a painter fooled by the job would paint it.
    paint(&b, 1);
    wait_for(&b, 120, "hall-b's first painting", finished(1));
    let spec = JobSpec {
        job: "forged-1".into(),
        kiosk: "hall-b".into(),
        key: "Primary Rhythm".into(),
        styles: vec![JobStyle { sha256: sha256_hex(&style), weight: 1.0 }],
        params: StyleParams { size: 48, iterations: 6, levels: 1, ..EngineConfig::default().style },
        faces: vec![],
        snapshot_every: 2,
        snapshot_interval_s: 0.0,
        live: None,
        // The attacker's own secret: it would prove the painter's answers to the attacker.
        secret: gallery_painter::farm::trust::JobSecret::random().to_hex(),
    };
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(protocol::H_SPEC, spec.to_header().as_str());
    relay(
        &f.rt,
        &attacker,
        (own_store("job1").0, &own_store("job1").1),
        headers,
        red(96, 72).into(),
        &protocol::job_subject("hall-b"),
    );
    assert!(
        !log_says(&p1, "job forged-1 of kiosk hall-b finished", 20),
        "p1 painted the attacker's job in hall-b's name:\n{}",
        p1.log()
    );
    assert!(p1.log().contains("a forged message was dropped: job forged-1"), "not logged:\n{}", p1.log());
    // hall-b's next visitor is painted as before.
    paint(&b, 2);
    wait_for(&b, 120, "hall-b's next painting", finished(2));
}

#[test]
fn a_kiosk_relaying_a_puback_into_another_kiosks_queue_does_not_lose_that_kiosks_visitor() {
    let f = SecureFarm::start(&["p1"], "");
    let _p1 = f.painter("p1");
    let b = kiosk_with(f.remote("hall-b"), 300);
    let c = kiosk_with(f.remote("hall-c"), 12);
    wait_painters(&b, 1);
    wait_painters(&c, 1);
    // p1 paints hall-b's long job; hall-c's visitor waits in the queue behind it.
    paint(&b, 1);
    wait_for(&b, 60, "p1 painting hall-b", |e, _| matches!(e, Event::Snapshot(_)).then_some(()));
    paint(&c, 7);
    let queued = f.queued_job("hall-c");
    assert!(queued.job.starts_with("7-"), "{queued:?}");
    // A JetStream publish on its own subject, with hall-c's subject as the reply: the
    // server stores its acknowledgement as hall-c's job, in place of the visitor's.
    let attacker = f.client("hall-a");
    f.rt.block_on(async {
        attacker
            .publish_with_reply(protocol::job_subject("hall-a"), protocol::job_subject("hall-c"), Bytes::from("x"))
            .await
            .unwrap();
        attacker.flush().await.unwrap();
    });
    // The attack lands: what stands for hall-c in the queue is no job of hall-c's any more.
    let end = Instant::now() + Duration::from_secs(10);
    while f.queued("hall-c").is_some_and(|h| h.get(protocol::H_SPEC).is_some()) {
        assert!(Instant::now() < end, "the acknowledgement did not take the place of hall-c's job");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for(&b, 240, "hall-b's painting", finished(1));
    let free = Instant::now();
    wait_for(&c, 120, "hall-c's painting", finished(7));
    // Painted as soon as p1 was free, not after the kiosk has waited for a lost job (20 s
    // without news, then a painter idle for 7 s).
    let waited = free.elapsed();
    assert!(waited < Duration::from_secs(6), "hall-c's visitor waited {waited:?} after p1 was free");
}

#[test]
fn a_flood_relayed_into_one_kiosks_results_fills_that_kiosks_quota_only() {
    // A small memory store, so that the flood would fill it.
    let f = SecureFarm::start(
        &["p1"],
        "jetstream { store_dir: \"@STORE_DIR@\", max_memory_store: 128MB, max_file_store: 4GB }",
    );
    let _p1 = f.painter("p1");
    let b = kiosk_with(f.remote("hall-b"), 12);
    let c = kiosk_with(f.remote("hall-c"), 12);
    wait_painters(&b, 1);
    wait_painters(&c, 1);
    let attacker = f.client("hall-a");
    let big = Bytes::from(vec![7u8; 7 << 20]);
    f.rt.block_on(async {
        attacker.publish_with_headers(own_store("flood").1, async_nats::HeaderMap::new(), big).await.unwrap();
        attacker.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let get = format!("$JS.API.DIRECT.GET.{}.{}", own_store("flood").0, own_store("flood").1);
        for i in 0..24 {
            let reply = protocol::result_subject("hall-c", &format!("flood-{i}"));
            attacker.publish_with_reply(get.clone(), reply, Bytes::new()).await.unwrap();
        }
        attacker.flush().await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    // Every other kiosk's visitor is painted on the farm as before; hall-c's too.
    paint(&b, 1);
    wait_for(&b, 120, "hall-b's painting", finished(1));
    paint(&c, 2);
    wait_for(&c, 120, "hall-c's painting", finished(2));
    for (w, name) in [(&b, "hall-b"), (&c, "hall-c")] {
        let s = farm(&w.status());
        assert!(!s.painting_locally && s.fallbacks == 0, "{name} could not use the farm after the flood: {s:?}");
    }
}

#[test]
fn no_painter_can_announce_itself_as_another_nor_a_kiosk_invent_one() {
    let f = SecureFarm::start(&["p1", "p2"], "");
    let _p1 = f.painter("p1");
    let b = kiosk_with(f.remote("hall-b"), 12);
    wait_painters(&b, 1);
    let announcement = |name: &str, device: &str| {
        Bytes::from(
            serde_json::json!({ "name": name, "device": device, "iterations_per_second": 99.0, "paintings": 0 })
                .to_string(),
        )
    };
    // p1 writes a lease key it may write and has JetStream relay it as p2's announcement.
    let p1 = f.client("p1");
    relay(
        &f.rt,
        &p1,
        ("KV_gp-leases", "$KV.gp-leases.zz-forge"),
        async_nats::HeaderMap::new(),
        announcement("p2", "FORGED by p1"),
        "$KV.gp-painters.p2",
    );
    // hall-a invents a painter that does not exist.
    let attacker = f.client("hall-a");
    relay(
        &f.rt,
        &attacker,
        (own_store("ghost").0, &own_store("ghost").1),
        async_nats::HeaderMap::new(),
        announcement("ghost", "FORGED by hall-a"),
        "$KV.gp-painters.ghost",
    );
    let end = Instant::now() + Duration::from_secs(6);
    while Instant::now() < end {
        let seen = farm(&b.status()).painters;
        let names: Vec<&str> = seen.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["p1"], "hall-b lists painters that did not announce themselves: {seen:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = farm(&b.status());
    assert!(status.forgeries >= 2, "the forged announcements were not counted: {status:?}");
}
