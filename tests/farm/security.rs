//! Who may do what on the farm: the users of scripts/farm-certs.sh against a real nats-server
//! over TLS, each probing past its role, and a kiosk that meets a results stream it did not
//! expect. What the server refused is read from its log.

use crate::attacks::{farm_certs, farm_setup};
use crate::common;
use crate::farm::{farm, finished, kiosk, kiosk_as, live_kiosk_as, paint, wait_for, wait_painters};

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use gallery_painter::config::RemoteConfig;
use gallery_painter::farm::protocol;
use gallery_painter::painting::{Command, Event};

#[test]
fn over_tls_each_role_does_its_job_only_and_no_kiosk_or_painter_can_reach_another_kiosks_pictures() {
    let certs = tempfile::tempdir().unwrap();
    let c = certs.path();
    farm_certs(
        c,
        &["--host", "127.0.0.1", "--kiosk", "hall-a", "--kiosk", "hall-b", "--kiosk", "hall-c", "--painter", "p1"],
    );
    let conf = std::fs::read_to_string(c.join("security.conf")).unwrap();
    // Only the setup role may touch the JetStream API as a whole, or create a stream.
    let admin_block = conf.split("{ user: \"p1\"").next().unwrap();
    let others = &conf[admin_block.len()..];
    assert!(!others.contains("$JS.API.>") && !others.contains("STREAM.CREATE") && !others.contains("STREAM.UPDATE"));
    assert!(!others.contains("CONSUMER.DELETE") && !others.contains("$O.gp-styles.>"), "{others}");
    // Passwords stand in the server's config as bcrypt hashes; the plain one only in each
    // user's own file (mode 0600).
    for user in ["admin", "p1", "hall-a", "hall-b", "hall-c"] {
        let file = c.join("passwords").join(user);
        let plain = std::fs::read_to_string(&file).unwrap();
        assert!(!conf.contains(plain.trim()), "{user}'s password stands in security.conf");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(conf.matches("password: \"$2a$11$").count(), 5, "{conf}");

    let server = common::nats::secure_server(c);

    let dir = tempfile::tempdir().unwrap();
    let ca = c.join("ca.pem");
    let pw = |user: &str| c.join("passwords").join(user);
    let (p1_pw, ca_arg) = (pw("p1"), ca.to_str().unwrap().to_string());
    let p1_id = c.join("identities/p1");
    let _p = common::nats::painter(
        &server.url,
        "p1",
        dir.path(),
        None,
        &[
            "--user",
            "p1",
            "--password-file",
            p1_pw.to_str().unwrap(),
            "--ca",
            &ca_arg,
            "--identity",
            p1_id.to_str().unwrap(),
        ],
    );
    let as_kiosk = |name: &str| RemoteConfig {
        url: server.url.clone(),
        kiosk: name.into(),
        user: Some(name.into()),
        password_file: Some(pw(name)),
        ca: Some(ca.clone()),
        identity: Some(c.join("identities").join(name)),
        fallback_after_s: 60.0,
        ..Default::default()
    };
    // A runtime of its own that keeps reading while the kiosks paint.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let connect = |user: Option<&str>, with_ca: bool| {
        let mut o =
            async_nats::ConnectOptions::new().max_reconnects(Some(1)).connection_timeout(Duration::from_secs(3));
        if let Some(u) = user {
            let password = std::fs::read_to_string(pw(u)).unwrap();
            o = o.user_and_password(u.into(), password.trim().into()).custom_inbox_prefix(format!("_INBOX_{u}"));
        }
        if with_ca {
            o = o.add_root_certificates(ca.clone()).require_tls(true);
        }
        rt.block_on(o.connect(server.url.clone()))
    };
    // Strangers: no user, or no trust in the farm's CA.
    let refused = connect(None, true).expect_err("a client without credentials is refused").to_string();
    assert!(refused.to_lowercase().contains("authoriz"), "{refused}");
    assert!(connect(Some("hall-b"), false).is_err(), "a client that does not trust the farm's CA gets nowhere");

    // hall-b listens for hall-a's pictures every way it can.
    let spy = connect(Some("hall-b"), true).unwrap();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    for subject in ["gp.snap.hall-a.*", "gp.results.hall-a.*", "gp.snap.>", ">"] {
        let mut s = rt.block_on(spy.subscribe(subject)).unwrap();
        let heard = heard.clone();
        rt.spawn(async move {
            use futures_util::StreamExt;
            while let Some(m) = s.next().await {
                heard.lock().unwrap().push(m.subject.to_string());
            }
        });
    }
    // The attack of the review: reshape its own results stream to take in hall-a's pictures,
    // or make a new one sourcing hall-a's; and tamper with hall-a's styles and the painters' list.
    let tried = rt.block_on(async {
        let js = jetstream::new(spy.clone());
        let wide = stream::Config {
            name: protocol::results_stream("hall-b"),
            subjects: vec!["gp.results.hall-b.*".into(), "gp.snap.>".into(), "gp.results.hall-a.*".into()],
            ..Default::default()
        };
        // Before the setup runs: its own results stream, made wide (the review's attack).
        let first = tokio::time::timeout(Duration::from_secs(5), js.create_stream(wide.clone())).await;
        let update = tokio::time::timeout(Duration::from_secs(5), js.update_stream(&wide)).await;
        let sourced = stream::Config {
            name: "GP_RESULTS_hall-b-copy".into(),
            sources: Some(vec![stream::Source { name: protocol::results_stream("hall-a"), ..Default::default() }]),
            ..Default::default()
        };
        let create = tokio::time::timeout(Duration::from_secs(5), js.create_stream(sourced)).await;
        spy.publish("$O.gp-styles-hall-a.M.bWFyaw", "overwritten".into()).await.unwrap();
        spy.publish("$JS.API.CONSUMER.DELETE.KV_gp-painters.watcher", "".into()).await.unwrap();
        spy.flush().await.unwrap();
        (matches!(first, Ok(Ok(_))), matches!(update, Ok(Ok(_))), matches!(create, Ok(Ok(_))))
    });
    assert_eq!(tried, (false, false, false), "hall-b created or reshaped a stream");
    // The setup role makes every stream (the painter, started above, waited for it).
    let report = farm_setup(&server.url, c, &["hall-a", "hall-b", "hall-c"]);
    assert!(
        report.contains("GP_RESULTS_hall-b: created") && report.contains("OBJ_gp-styles-hall-c: created"),
        "{report}"
    );
    let again = farm_setup(&server.url, c, &["hall-a", "hall-b", "hall-c"]);
    assert!(
        again.contains("GP_JOBS: as expected") && !again.contains("created"),
        "run twice, it changes nothing: {again}"
    );

    let a = kiosk_as(as_kiosk("hall-a"), 10);
    let b = kiosk_as(as_kiosk("hall-b"), 10);
    wait_painters(&a, 1);
    wait_painters(&b, 1);
    paint(&a, 1);
    wait_for(&a, 120, "hall-a's painting over TLS", finished(1));
    paint(&b, 2);
    wait_for(&b, 120, "hall-b's painting over TLS", finished(2));
    for (w, name) in [(&a, "hall-a"), (&b, "hall-b")] {
        let f = farm(&w.status());
        assert!(!f.painting_locally && f.fallbacks == 0, "{name} painted on the farm with its own user: {f:?}");
    }
    // A Live mirror works with its kiosk's own rights (frames, lease, snapshots)...
    let (c_live, mut camera) = live_kiosk_as(as_kiosk("hall-c"), 10.0);
    let mut mirrored = std::collections::BTreeSet::new();
    wait_for(&c_live, 120, "hall-c's mirror over TLS", |e, s| {
        if let Event::Snapshot(snap) = e {
            mirrored.insert(snap.frame_seq);
        }
        (mirrored.len() >= 3 && farm(s).painter.is_some()).then_some(())
    });
    camera.stop();
    // ... and hall-b cannot read who paints it.
    let lease = rt.block_on(async {
        let js = jetstream::new(spy.clone());
        tokio::time::timeout(Duration::from_secs(5), async {
            js.get_key_value(protocol::LEASES_BUCKET).await?.entry("hall-c").await.map_err(async_nats::Error::from)
        })
        .await
    });
    assert!(!matches!(lease, Ok(Ok(Some(_)))), "hall-b read hall-c's lease");
    // Forget works with a kiosk's own rights: hall-a's results stream is empty soon after.
    a.commands.send(Command::Forget).unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let jsz = server.monitor("/jsz?streams=true").unwrap();
        let streams = jsz["account_details"][0]["stream_detail"].as_array().cloned().unwrap_or_default();
        let held = streams
            .iter()
            .find(|s| s["name"] == protocol::results_stream("hall-a").as_str())
            .map(|s| s["state"]["messages"].as_u64().unwrap_or(0));
        if held == Some(0) {
            break;
        }
        assert!(std::time::Instant::now() < end, "hall-a's painting stays on the server after Forget: {held:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let heard = heard.lock().unwrap().clone();
    assert!(heard.iter().all(|s| !s.contains("hall-a")), "hall-b heard hall-a's messages: {heard:?}");
    // Nor can it read hall-a's kept paintings through the JetStream API; nor can a painter,
    // which may publish paintings but read, purge or delete nothing.
    let painter = connect(Some("p1"), true).unwrap();
    let reads = rt.block_on(async {
        let spy_js = jetstream::new(spy.clone());
        let t = Duration::from_secs(5);
        let by_kiosk = tokio::time::timeout(t, spy_js.get_stream(protocol::results_stream("hall-a"))).await;
        let js = jetstream::new(painter.clone());
        let by_painter = tokio::time::timeout(t, js.get_stream(protocol::results_stream("hall-a"))).await;
        let purge = tokio::time::timeout(t, async {
            js.get_stream(protocol::JOBS_STREAM).await?.purge().await.map_err(async_nats::Error::from)
        })
        .await;
        let delete = tokio::time::timeout(t, js.delete_stream(protocol::results_stream("hall-b"))).await;
        [
            matches!(by_kiosk, Ok(Ok(_))),
            matches!(by_painter, Ok(Ok(_))),
            matches!(purge, Ok(Ok(_))),
            matches!(delete, Ok(Ok(_))),
        ]
    });
    assert_eq!(reads, [false; 4], "[kiosk reads hall-a, painter reads hall-a, painter purges jobs, painter deletes]");

    let log = server.log();
    let violations: Vec<&str> = log.lines().filter(|l| l.contains("Violation")).collect();
    let refused =
        |user: &str, what: &str| violations.iter().any(|l| l.contains(&format!("\"{user}\"")) && l.contains(what));
    for (user, what) in [
        ("hall-b", "gp.snap.hall-a.*"),
        ("hall-b", "gp-leases.hall-c"),
        ("hall-b", "STREAM.CREATE.GP_RESULTS_hall-b\""),
        ("hall-b", "STREAM.UPDATE.GP_RESULTS_hall-b"),
        ("hall-b", "STREAM.CREATE.GP_RESULTS_hall-b-copy"),
        ("hall-b", "$O.gp-styles-hall-a"),
        ("hall-b", "CONSUMER.DELETE.KV_gp-painters"),
        ("hall-b", "STREAM.INFO.GP_RESULTS_hall-a"),
        ("p1", "STREAM.INFO.GP_RESULTS_hall-a"),
        ("p1", "STREAM.PURGE.GP_JOBS"),
        ("p1", "STREAM.DELETE.GP_RESULTS_hall-b"),
    ] {
        assert!(refused(user, what), "the server did not log refusing {user} {what}:\n{}", violations.join("\n"));
    }
    // Every refusal was one of the probes: the farm's own clients never lack a permission.
    let probes = [
        "\"gp.snap.hall-a.*\"",
        "\"gp.results.hall-a.*\"",
        "\"gp.snap.>\"",
        "\">\"",
        "GP_RESULTS_hall-a",
        "gp-leases.hall-c",
        "GP_RESULTS_hall-b",
        "gp-styles-hall-a",
        "CONSUMER.DELETE",
        "STREAM.PURGE.GP_JOBS",
    ];
    let unexpected: Vec<&str> = violations.into_iter().filter(|l| !probes.iter().any(|p| l.contains(p))).collect();
    assert!(unexpected.is_empty(), "permissions the farm's own clients lack: {unexpected:#?}");
}

#[test]
fn a_kiosk_refuses_a_results_stream_it_did_not_expect_and_farm_setup_puts_it_right() {
    let mut server = common::nats::server();
    // Someone made hall-b's stream wider than the setup does (it would also keep hall-a's paintings).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let js = jetstream::new(async_nats::connect(&server.url).await.unwrap());
        js.delete_stream(protocol::results_stream("hall-b")).await.unwrap();
        js.delete_stream(protocol::results_stream("hall-a")).await.unwrap();
        js.create_stream(stream::Config {
            name: protocol::results_stream("hall-b"),
            subjects: vec!["gp.results.hall-b.*".into(), "gp.results.hall-a.*".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    });
    let w = kiosk(&server.url, "hall-b", 6, 2.0);
    let said = wait_for(&w, 30, "the refusal on screen", |e, _| match e {
        Event::Notice(n) if n.text.contains("GP_RESULTS_hall-b") => Some(n.text.clone()),
        _ => None,
    });
    assert!(said.contains("subjects") && said.contains("farm-setup --kiosk hall-b"), "{said}");
    // The visitor is painted all the same, here.
    paint(&w, 1);
    wait_for(&w, 120, "the local painting", finished(1));
    assert!(farm(&w.status()).painting_locally);

    // The technician runs the setup: the stream is made again, and the kiosk uses the farm.
    server.set_up_farm(&common::nats::KIOSKS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _p = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    wait_painters(&w, 1);
}

#[test]
fn farm_certs_gives_each_server_its_own_key_and_each_user_an_identity_kept_across_runs() {
    use gallery_painter::farm::trust::{Identity, Role};
    let out = tempfile::tempdir().unwrap();
    let o = out.path();
    let args = [
        "--server",
        "farm-1,10.0.0.5",
        "--server",
        "farm-2",
        "--server",
        "farm-3",
        "--kiosk",
        "hall-a",
        "--painter",
        "p1",
    ];
    farm_certs(o, &args);
    let mut keys = Vec::new();
    for server in ["farm-1", "farm-2", "farm-3"] {
        let dir = o.join("servers").join(server);
        let mut files: Vec<String> =
            std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        files.sort();
        // What the server needs, and nothing that would let it make users or read their passwords.
        assert_eq!(
            files,
            ["ca.pem", "cluster-tls.conf", "security.conf", "server-key.pem", "server.hosts", "server.pem"],
            "{server}"
        );
        let verified = std::process::Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(o.join("ca.pem"))
            .arg(dir.join("server.pem"))
            .output()
            .unwrap();
        assert!(verified.status.success(), "{server}: {}", String::from_utf8_lossy(&verified.stdout));
        let names = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
            .arg(dir.join("server.pem"))
            .output()
            .unwrap();
        let names = String::from_utf8_lossy(&names.stdout).into_owned();
        assert!(names.contains(&format!("DNS:{server}")), "{server}: {names}");
        assert_eq!(names.contains("10.0.0.5"), server == "farm-1", "{server}: {names}");
        let conf = std::fs::read_to_string(dir.join("security.conf")).unwrap();
        assert!(conf.contains("/etc/gallery-painter/farm-server/server-key.pem"), "{conf}");
        for user in ["admin", "p1", "hall-a"] {
            let plain = std::fs::read_to_string(o.join("passwords").join(user)).unwrap();
            assert!(!conf.contains(plain.trim()), "{user}'s password in {server}'s security.conf");
        }
        keys.push(std::fs::read(dir.join("server-key.pem")).unwrap());
    }
    assert!(keys[0] != keys[1] && keys[1] != keys[2], "servers share a key");
    // Each identity loads as its own role and name, and is kept when the script runs again.
    let identity = |name: &str| o.join("identities").join(name);
    let before = std::fs::read(identity("hall-a")).unwrap();
    Identity::load(&identity("hall-a"), Role::Kiosk, "hall-a").unwrap();
    Identity::load(&identity("p1"), Role::Painter, "p1").unwrap();
    assert!(Identity::load(&identity("p1"), Role::Kiosk, "p1").is_err(), "a painter's identity is no kiosk's");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(identity("hall-a")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    farm_certs(o, &[&args[..], &["--kiosk", "hall-b"]].concat());
    assert_eq!(std::fs::read(identity("hall-a")).unwrap(), before, "an identity changed on a second run");
    Identity::load(&identity("hall-b"), Role::Kiosk, "hall-b").unwrap();
}
