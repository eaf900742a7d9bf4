//! The curator console against its real server on 127.0.0.x (the same axum router and
//! connection limits the app serves, without the display): nothing without a session, CSRF
//! on every change, the cookie's flags, wrong passwords limited per address, bodies over the
//! limit, escaping, idle connections that must not lock staff out, and a real Chromium that
//! signs in and presses a button.

use crate::common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gallery_painter::console::scenes::SceneDesk;
use gallery_painter::console::server::{Console, router};
use gallery_painter::console::{Board, ConsoleConfig, StaffCommand, auth};
use gallery_painter::scene::Scene;
use gallery_painter::service::health::Health;
use gallery_painter::service::http::{HealthServer, health_routes, serve};
use gallery_painter::service::proxies::TrustedProxies;

const PASSWORD: &str = "the night watch at noon";

struct Kiosk {
    server: HealthServer,
    board: Arc<Board>,
    commands: crossbeam_channel::Receiver<StaffCommand>,
    health: Arc<Mutex<Health>>,
    _state: tempfile::TempDir,
}

fn kiosk(config: ConsoleConfig, with_password: bool) -> Kiosk {
    kiosk_with_scene(config, with_password, None)
}

fn kiosk_with_scene(config: ConsoleConfig, with_password: bool, scene: Option<&std::path::Path>) -> Kiosk {
    kiosk_with(config, with_password, scene, None)
}

fn kiosk_with(
    config: ConsoleConfig,
    with_password: bool,
    scene: Option<&std::path::Path>,
    shelf: Option<gallery_painter::console::artworks::Shelf>,
) -> Kiosk {
    kiosk_behind(config, with_password, scene, shelf, &[])
}

/// `proxies`: service.trusted_proxies.
fn kiosk_behind(
    config: ConsoleConfig,
    with_password: bool,
    scene: Option<&std::path::Path>,
    shelf: Option<gallery_painter::console::artworks::Shelf>,
    proxies: &[&str],
) -> Kiosk {
    let state = tempfile::tempdir().unwrap();
    if with_password {
        auth::set_password(state.path(), PASSWORD).unwrap();
    }
    let health = Arc::new(Mutex::new(Health::new(Instant::now())));
    {
        let mut h = health.lock().unwrap();
        h.artwork = "The Starry Night".into();
        h.worker_heartbeat = Some(Instant::now() + Duration::from_secs(3600));
        h.render_heartbeat = Instant::now() + Duration::from_secs(3600);
    }
    let (board, commands) = Board::new(health.clone());
    let scenes = scene.map(|p| {
        SceneDesk::new(p.to_path_buf(), common::root(), gallery_painter::engine::StyleParams::default(), state.path())
    });
    let console = Console::new(&config, state.path().to_path_buf(), board.clone(), scenes, shelf);
    let routes = health_routes(health.clone(), false).merge(router(console));
    let proxies: Vec<IpAddr> = proxies.iter().map(|p| p.parse().unwrap()).collect();
    let server = serve("127.0.0.1:0".parse().unwrap(), routes, TrustedProxies::new(&proxies)).unwrap();
    Kiosk { server, board, commands, health, _state: state }
}

fn enabled() -> ConsoleConfig {
    ConsoleConfig { enabled: true, ..ConsoleConfig::default() }
}

/// A connection from `from` (any 127.x.y.z address is this machine on Linux).
fn connect(from: IpAddr, to: SocketAddr) -> TcpStream {
    let runtime = common::browser::runtime();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        socket.connect(to).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The value a `Set-Cookie` gives `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.header("set-cookie")
            .iter()
            .find_map(|c| c.strip_prefix(&format!("{name}="))?.split(';').next().map(str::to_owned))
    }
}

fn request(from: IpAddr, to: SocketAddr, method: &str, path: &str, cookies: &str, body: &str) -> Reply {
    request_with(from, to, method, path, cookies, "", body)
}

/// With extra header lines (each ending in \r\n).
fn request_with(
    from: IpAddr,
    to: SocketAddr,
    method: &str,
    path: &str,
    cookies: &str,
    extra: &str,
    body: &str,
) -> Reply {
    let mut s = connect(from, to);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let cookie = if cookies.is_empty() { String::new() } else { format!("Cookie: {cookies}\r\n") };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: kiosk\r\nConnection: close\r\n{cookie}{extra}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, head: head.to_owned(), body: body.to_owned() }
}

fn here() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// The hidden CSRF field of a page.
fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..at + 32].to_owned()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Signs in from `from`: (the session cookie header value, the session's CSRF token).
fn sign_in(k: &Kiosk, from: IpAddr) -> (String, String) {
    let login = request(from, k.server.address, "GET", "/login", "", "");
    let token = login.cookie("gp_login").unwrap();
    let cookies = format!("gp_login={token}");
    let r =
        request(from, k.server.address, "POST", "/login", &cookies, &form(&[("csrf", &token), ("password", PASSWORD)]));
    assert_eq!(r.status, 303, "{}", r.head);
    let session = format!("gp_session={}", r.cookie("gp_session").unwrap());
    let now = request(from, k.server.address, "GET", "/now", &session, "");
    assert_eq!(now.status, 200);
    (session, csrf_in(&now.body))
}

#[test]
fn every_console_route_refuses_a_request_without_a_session() {
    let k = kiosk(enabled(), true);
    let a = k.server.address;
    for path in ["/", "/now", "/now/screen.jpg", "/statistics"] {
        let r = request(here(), a, "GET", path, "", "");
        assert_eq!((r.status, r.header("location")), (303, vec!["/login".to_owned()]), "GET {path}");
    }
    assert_eq!(request(here(), a, "GET", "/now/status.json", "", "").status, 401);
    assert_eq!(request(here(), a, "GET", "/statistics.csv", "", "").status, 401);
    let forged = "gp_session=0123456789abcdef0123456789abcdef";
    for path in ["/now/next-artwork", "/now/restart-painter", "/logout"] {
        assert_eq!(request(here(), a, "POST", path, "", "csrf=x").status, 401, "POST {path}");
        assert_eq!(
            request(here(), a, "POST", path, forged, "csrf=x").status,
            401,
            "POST {path} with a made-up session"
        );
    }
    assert!(k.commands.try_recv().is_err(), "nothing reached the display");
    // The sign-in page, its files and /health stay open.
    assert_eq!(request(here(), a, "GET", "/login", "", "").status, 200);
    assert_eq!(request(here(), a, "GET", "/static/console.css", "", "").status, 200);
    assert_eq!(request(here(), a, "GET", "/health", "", "").status, 200);
}

#[test]
fn signing_in_gives_a_strict_cookie_and_every_change_needs_the_csrf_token() {
    let k = kiosk(enabled(), true);
    let a = k.server.address;
    let login = request(here(), a, "GET", "/login", "", "");
    let token = login.cookie("gp_login").unwrap();
    assert_eq!(csrf_in(&login.body), token);
    assert!(login.header("content-security-policy")[0].contains("default-src 'self'"));
    // The sign-in form itself needs its token.
    let no_token = request(here(), a, "POST", "/login", "", &form(&[("csrf", &token), ("password", PASSWORD)]));
    assert_eq!(no_token.status, 403, "no login cookie");
    let wrong = request(
        here(),
        a,
        "POST",
        "/login",
        &format!("gp_login={token}"),
        &form(&[("csrf", "0123456789abcdef0123456789abcdef"), ("password", PASSWORD)]),
    );
    assert_eq!(wrong.status, 403, "a token that is not the cookie's");
    let ok = request(
        here(),
        a,
        "POST",
        "/login",
        &format!("gp_login={token}"),
        &form(&[("csrf", &token), ("password", PASSWORD)]),
    );
    assert_eq!(ok.status, 303);
    let cookie = ok.header("set-cookie").into_iter().find(|c| c.starts_with("gp_session=")).unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP on the museum network: {cookie}");
    let session = format!("gp_session={}", ok.cookie("gp_session").unwrap());

    let now = request(here(), a, "GET", "/now", &session, "");
    assert_eq!(now.status, 200);
    assert!(now.body.contains("The Starry Night"));
    let csrf = csrf_in(&now.body);
    assert_ne!(csrf, token, "the session has a token of its own");
    let next = "/now/next-artwork";
    assert_eq!(request(here(), a, "POST", next, &session, "").status, 403, "no token");
    assert_eq!(request(here(), a, "POST", next, &session, "csrf=0123456789abcdef0123456789abcdef").status, 403);
    assert!(k.commands.try_recv().is_err());
    let r = request(here(), a, "POST", next, &session, &form(&[("csrf", &csrf)]));
    assert_eq!((r.status, r.header("location")), (303, vec!["/now?done=next-artwork".to_owned()]));
    assert_eq!(k.commands.try_recv(), Ok(StaffCommand::NextArtwork));
    assert!(
        request(here(), a, "GET", "/now?done=next-artwork", &session, "").body.contains("The next artwork is on show.")
    );
    for c in StaffCommand::ALL {
        let r = request(here(), a, "POST", &format!("/now/{}", c.name()), &session, &form(&[("csrf", &csrf)]));
        assert_eq!(r.status, 303);
        assert_eq!(k.commands.try_recv(), Ok(c));
    }
    assert_eq!(request(here(), a, "POST", "/now/format-disk", &session, &form(&[("csrf", &csrf)])).status, 404);

    // Signing out ends the session.
    assert_eq!(request(here(), a, "POST", "/logout", &session, &form(&[("csrf", &csrf)])).status, 303);
    assert_eq!(request(here(), a, "GET", "/now", &session, "").status, 303);
    assert_eq!(request(here(), a, "POST", next, &session, &form(&[("csrf", &csrf)])).status, 401);
}

#[test]
fn behind_tls_the_session_cookie_is_secure() {
    let k = kiosk(ConsoleConfig { behind_tls: true, ..enabled() }, true);
    let login = request(here(), k.server.address, "GET", "/login", "", "");
    assert!(login.header("set-cookie")[0].contains("; Secure"));
    let token = login.cookie("gp_login").unwrap();
    let ok = request(
        here(),
        k.server.address,
        "POST",
        "/login",
        &format!("gp_login={token}"),
        &form(&[("csrf", &token), ("password", PASSWORD)]),
    );
    let cookie = ok.header("set-cookie").into_iter().find(|c| c.starts_with("gp_session=")).unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[test]
fn twenty_wrong_passwords_from_one_address_give_429_and_another_address_still_signs_in() {
    let k = kiosk(enabled(), true);
    let a = k.server.address;
    let guesser: IpAddr = "127.0.0.2".parse().unwrap();
    let login = request(guesser, a, "GET", "/login", "", "");
    let token = login.cookie("gp_login").unwrap();
    let cookies = format!("gp_login={token}");
    let mut statuses = Vec::new();
    for i in 0..auth::MAX_FAILURES {
        let r = request(
            guesser,
            a,
            "POST",
            "/login",
            &cookies,
            &form(&[("csrf", &token), ("password", &format!("guess {i}"))]),
        );
        statuses.push(r.status);
    }
    let expected: Vec<u16> =
        (0..auth::MAX_FAILURES).map(|i| if i + 1 < auth::MAX_FAILURES { 401 } else { 429 }).collect();
    assert_eq!(statuses, expected);
    // Now even the right password waits, from that address.
    let right = request(guesser, a, "POST", "/login", &cookies, &form(&[("csrf", &token), ("password", PASSWORD)]));
    assert_eq!(right.status, 429);
    assert!(right.header("retry-after")[0].parse::<u64>().unwrap() > 60);
    assert!(right.cookie("gp_session").is_none());
    // Staff at another machine are not locked out.
    sign_in(&k, here());
}

#[test]
fn without_a_password_nobody_signs_in_and_the_page_says_how_to_set_one() {
    let k = kiosk(enabled(), false);
    let login = request(here(), k.server.address, "GET", "/login", "", "");
    let token = login.cookie("gp_login").unwrap();
    for password in ["", "anything at all", PASSWORD] {
        let r = request(
            here(),
            k.server.address,
            "POST",
            "/login",
            &format!("gp_login={token}"),
            &form(&[("csrf", &token), ("password", password)]),
        );
        assert_eq!(r.status, 503);
        assert!(r.body.contains("gallery-painter console set-password"));
        assert!(r.cookie("gp_session").is_none());
    }
}

#[test]
fn a_body_over_the_limit_gets_413() {
    let k = kiosk(enabled(), true);
    let (session, csrf) = sign_in(&k, here());
    let big = format!("csrf={csrf}&pad={}", "x".repeat(100_000));
    assert_eq!(request(here(), k.server.address, "POST", "/now/next-artwork", &session, &big).status, 413);
    assert!(k.commands.try_recv().is_err());
    let big_login = format!("csrf=x&password={}", "x".repeat(100_000));
    assert_eq!(request(here(), k.server.address, "POST", "/login", "", &big_login).status, 413);
}

#[test]
fn a_title_with_markup_shows_escaped_on_the_now_page() {
    let k = kiosk(enabled(), true);
    k.health.lock().unwrap().artwork = "<script>alert(1)</script> & \"friends\"".into();
    let (session, _) = sign_in(&k, here());
    let page = request(here(), k.server.address, "GET", "/now", &session, "").body;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;"), "{page}");
    assert!(!page.contains("<script>alert"));
    let json = request(here(), k.server.address, "GET", "/now/status.json", &session, "").body;
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(status["artwork"], "<script>alert(1)</script> & \"friends\"");
}

#[test]
fn statistics_show_30_days_as_svg_charts_and_download_as_csv() {
    use gallery_painter::console::stats::Happening;
    let k = kiosk(enabled(), true);
    let now = chrono::Local::now().naive_local();
    {
        let mut s = k.board.stats();
        for _ in 0..7 {
            s.record(Happening::Visitor, "The Starry Night", now);
        }
        s.record(Happening::Painting, "The Starry Night", now);
        s.record(Happening::Pick, "<b>Waves</b>", now - chrono::Duration::days(3));
    }
    let (session, _) = sign_in(&k, here());
    let page = request(here(), k.server.address, "GET", "/statistics", &session, "");
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("<svg").count(), 2, "by day and by hour");
    assert!(
        page.body
            .contains("<strong>7</strong> visitors, <strong>1</strong> paintings, <strong>1</strong> artworks picked")
    );
    assert!(page.body.contains(": 7 visitors</title>"), "a bar says its number");
    assert!(page.body.contains("&lt;b&gt;Waves&lt;/b&gt;") && !page.body.contains("<b>Waves"));
    let csv = request(here(), k.server.address, "GET", "/statistics.csv", &session, "");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-disposition")[0].starts_with("attachment"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "day,hour,artwork,visitors,paintings,picks");
    assert!(lines.iter().any(|l| l.ends_with(",\"The Starry Night\",7,1,0")), "{lines:?}");
}

#[test]
fn a_hundred_idle_connections_from_one_address_leave_the_console_and_health_answering_another() {
    let k = kiosk(enabled(), true);
    let crowd: IpAddr = "127.0.0.3".parse().unwrap();
    // Connected and silent, as a stuck or hostile client would be: more than the listener's
    // 64 in all, so only the limit per address keeps room for everybody else.
    let limits = gallery_painter::service::http::LIMITS;
    assert!(100 > limits.total);
    let idle: Vec<TcpStream> = (0..100).map(|_| connect(crowd, k.server.address)).collect();
    std::thread::sleep(Duration::from_millis(200));
    // The address's connections past its limit are closed at once; those within it stay open.
    let mut byte = [0u8; 1];
    let mut first = &idle[0];
    first.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let kept = first.read(&mut byte);
    assert!(
        kept.as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut),
        "the first connection should be held open: {kept:?}"
    );
    let mut extra = &idle[limits.per_address];
    extra.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    match extra.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("connection {} from one address was not closed: {other:?}", limits.per_address + 1),
    }
    let t0 = Instant::now();
    assert_eq!(request(here(), k.server.address, "GET", "/health", "", "").status, 200);
    assert_eq!(request(here(), k.server.address, "GET", "/login", "", "").status, 200);
    sign_in(&k, here());
    assert!(t0.elapsed() < Duration::from_secs(3), "answered in {:?}", t0.elapsed());
    drop(idle);
}

#[test]
fn health_and_metrics_answer_this_machine_only_unless_allowed() {
    use tower::ServiceExt;
    let health = Arc::new(Mutex::new(Health::new(Instant::now())));
    let runtime = common::browser::runtime();
    let ask = |allow_remote: bool, peer: &str, path: &str| {
        let req = axum::http::Request::get(path)
            .extension(axum::extract::ConnectInfo(peer.parse::<SocketAddr>().unwrap()))
            .body(axum::body::Body::empty())
            .unwrap();
        runtime.block_on(health_routes(health.clone(), allow_remote).oneshot(req)).unwrap().status().as_u16()
    };
    assert_eq!(ask(false, "127.0.0.1:5000", "/metrics"), 200);
    assert_eq!(ask(false, "192.168.1.20:5000", "/metrics"), 403);
    assert_eq!(ask(false, "192.168.1.20:5000", "/health"), 403);
    assert_eq!(ask(true, "192.168.1.20:5000", "/metrics"), 200);
}

#[test]
fn in_a_real_browser_staff_sign_in_see_the_kiosk_and_show_the_next_artwork() {
    let k = kiosk(enabled(), true);
    let base = format!("http://{}", k.server.address);
    let (_driver, driver_url) = common::browser::chromedriver();
    let shots = std::env::var_os("E2E_SCREENSHOTS").map(std::path::PathBuf::from);
    common::browser::runtime().block_on(async {
        use fantoccini::Locator::Css;
        let tablet = serde_json::json!({});
        let client = common::browser::chromium(&driver_url, &["--window-size=1024,900"], tablet).await;
        client.goto(&format!("{base}/now")).await.unwrap();
        assert!(client.current_url().await.unwrap().path().ends_with("/login"), "sent to sign in first");
        client.find(Css("#password")).await.unwrap().send_keys("not it at all").await.unwrap();
        client.find(Css("form.login button")).await.unwrap().click().await.unwrap();
        // The form posts and a new page loads: wait for it rather than read the old one.
        let problem = client.wait().for_element(Css(".problem")).await.unwrap().text().await.unwrap();
        assert_eq!(problem, "That password is not right.");
        client.find(Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
        client.find(Css("form.login button")).await.unwrap().click().await.unwrap();
        client.wait().for_element(Css("#artwork")).await.unwrap();
        assert_eq!(client.find(Css("#artwork")).await.unwrap().text().await.unwrap(), "The Starry Night");
        // The script keeps the page current.
        k.health.lock().unwrap().artwork = "Wheat Field with Cypresses".into();
        let end = Instant::now() + Duration::from_secs(10);
        while client.find(Css("#artwork")).await.unwrap().text().await.unwrap() != "Wheat Field with Cypresses" {
            assert!(Instant::now() < end, "the Now page did not refresh");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("console-now.png"), client.screenshot().await.unwrap()).unwrap();
        }
        // A button asks first; "Cancel" sends nothing.
        let next = Css("form[action='/now/next-artwork'] button");
        client.find(next).await.unwrap().click().await.unwrap();
        assert_eq!(client.get_alert_text().await.unwrap(), "Show the next artwork now?");
        client.dismiss_alert().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(k.commands.try_recv().is_err());
        client.find(next).await.unwrap().click().await.unwrap();
        client.accept_alert().await.unwrap();
        client.wait().for_element(Css(".done")).await.unwrap();
        assert_eq!(client.find(Css(".done")).await.unwrap().text().await.unwrap(), "The next artwork is on show.");
        assert_eq!(k.commands.try_recv(), Ok(StaffCommand::NextArtwork));
        // The numbers, from the navigation.
        {
            use gallery_painter::console::stats::Happening;
            let mut s = k.board.stats();
            let now = chrono::Local::now().naive_local();
            for day in 0..30i64 {
                for v in 0..(day * 7 % 23 + 3) {
                    let at = now - chrono::Duration::days(day) - chrono::Duration::hours(v % 9);
                    s.record(Happening::Visitor, if v % 3 == 0 { "Wheat Field" } else { "The Starry Night" }, at);
                    if v % 2 == 0 {
                        s.record(Happening::Painting, "The Starry Night", at);
                    }
                }
            }
        }
        client.find(Css("nav a[href='/statistics']")).await.unwrap().click().await.unwrap();
        client.wait().for_element(Css("svg.chart")).await.unwrap();
        let rows = client.find_all(Css("table.artworks tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 2);
        if let Some(dir) = &shots {
            std::fs::write(dir.join("console-statistics.png"), client.screenshot().await.unwrap()).unwrap();
        }
        client.find(Css(".signout button")).await.unwrap().click().await.unwrap();
        client.wait().for_element(Css("#password")).await.unwrap();
        client.goto(&format!("{base}/now")).await.unwrap();
        assert!(client.current_url().await.unwrap().path().ends_with("/login"), "signed out");
        client.close().await.unwrap();
    });
}

const SCENE: &str = r#"// The test scene.
(
    name: "Test",
    entries: [
        (styles: [(path: "assets/styles/swirling_night.png")], title: "Night", duration_s: 60.0),
        (styles: [(path: "assets/styles/ink_waves.png"), (path: "assets/styles/ember_field.png", weight: 0.5)],
         title: "Waves", duration_s: 60.0, overrides: (style_scale: 1.5)),
        (styles: [(path: "assets/styles/ember_field.png")], title: "Embers", duration_s: 60.0),
    ],
)
"#;

fn scene_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene.ron");
    std::fs::write(&path, SCENE).unwrap();
    (dir, path)
}

fn played(path: &std::path::Path) -> Scene {
    Scene::load(path, &common::root(), &gallery_painter::engine::StyleParams::default()).unwrap()
}

#[test]
fn a_scene_edit_is_checked_like_a_hot_reload_a_refused_one_writes_nothing_and_versions_come_back() {
    let (_dir, path) = scene_file();
    let k = kiosk_with_scene(enabled(), true, Some(&path));
    let a = k.server.address;
    let (session, csrf) = sign_in(&k, here());
    let page = request(here(), a, "GET", "/scenes", &session, "");
    assert_eq!(page.status, 200);
    for title in ["Night", "Waves", "Embers", "style_scale: 1.5"] {
        assert!(page.body.contains(title), "{title}");
    }
    // Each change from a page just loaded (the scene's version as it is now).
    let post = |path: &str, fields: &[(&str, &str)]| {
        let (version, _) = scene_forms(&k, &session);
        let mut all = vec![("csrf", csrf.as_str()), ("scene_version", version.as_str())];
        all.extend_from_slice(fields);
        request(here(), a, "POST", path, &session, &form(&all))
    };
    let entry = |title: &str| format!("/scenes/entry/{}", key_of(&k, &session, title));

    // Refused, each with the file, line, column and a fix; the file is untouched.
    let typo = SCENE.replace(
        "duration_s: 60.0),\n        (styles: [(path: \"assets/styles/ink",
        "duration: 60.0),\n        (styles: [(path: \"assets/styles/ink",
    );
    let r = post("/scenes/text", &[("text", &typo)]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("scene.ron:5:") && r.body.contains("fix:") && r.body.contains("duration_s"), "{}", r.body);
    assert!(r.body.contains("Not saved: nothing was changed."));
    let missing = SCENE.replace("ember_field.png\")], title: \"Embers\"", "gone.png\")], title: \"Embers\"");
    let r = post("/scenes/text", &[("text", &missing)]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("gone.png") && r.body.contains("does not exist"), "{}", r.body);
    assert!(
        r.body.contains("gone.png\")], title: &quot;Embers&quot;") || r.body.contains("gone.png&quot;)]"),
        "the edit stays to be fixed"
    );
    let r =
        post(&entry("Night"), &[("title", "Night"), ("duration_s", "0.5"), ("transition", "cut"), ("weight0", "1")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("below 1 second"), "{}", r.body);
    let r = post(&entry("Night"), &[("title", "Night"), ("duration_s", "soon"), ("weight0", "1")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("On show (seconds): `soon` is not a number"), "{}", r.body);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SCENE, "nothing was written");
    assert!(!request(here(), a, "GET", "/scenes", &session, "").body.contains("Restore"), "no version kept");

    // Accepted: the text editor keeps comments; the forms change one thing each.
    let longer = SCENE.replace("title: \"Night\", duration_s: 60.0", "title: \"Night\", duration_s: 90.0");
    let r = post("/scenes/text", &[("text", &longer.replace('\n', "\r\n"))]);
    assert_eq!((r.status, r.header("location")), (303, vec!["/scenes?done=saved".to_owned()]));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), longer);
    assert_eq!(played(&path).entries[0].duration_s, 90.0);
    for _ in 0..2 {
        let embers = key_of(&k, &session, "Embers");
        assert_eq!(post("/scenes/move", &[("entry", &embers), ("direction", "up")]).status, 303);
    }
    let titles: Vec<String> = played(&path).entries.iter().map(|e| e.title.clone()).collect();
    assert_eq!(titles, ["Embers", "Night", "Waves"]);
    let r = post(
        &entry("Waves"),
        &[
            ("title", "Waves <b>"),
            ("artist", "Studio"),
            ("year", "2026"),
            ("credit", ""),
            ("duration_s", "45"),
            ("transition", "cut"),
            ("transition_ms", "0"),
            ("weight0", "2"),
            ("weight1", "0.25"),
        ],
    );
    assert_eq!(r.status, 303);
    let waves = &played(&path).entries[2];
    assert_eq!((waves.title.as_str(), waves.duration_s, waves.styles[1].weight), ("Waves <b>", 45.0, 0.25));
    assert_eq!(waves.transition, gallery_painter::scene::Transition::Cut);
    assert_eq!(waves.overrides.style_scale, Some(1.5), "settings the form does not show are kept");
    let r = post(
        "/scenes/rotation",
        &[("order", "Shuffle"), ("hours", "on"), ("open", "09:30"), ("close", "17:00"), ("closed_Mon", "on")],
    );
    assert_eq!(r.status, 303);
    let scene = played(&path);
    assert_eq!(scene.order, gallery_painter::scene::Order::Shuffle);
    let hours = scene.hours.unwrap();
    assert_eq!(
        (hours.open.as_str(), hours.close.as_str(), hours.closed_on),
        ("09:30", "17:00", vec!["Mon".to_owned()])
    );
    let page = request(here(), a, "GET", "/scenes", &session, "").body;
    assert!(page.contains("Waves &lt;b&gt;") && !page.contains("Waves <b>"));

    // Five saves (the text, two moves, an entry, the rotation), five versions; the first is
    // the file as it began.
    let versions: Vec<String> =
        page.match_indices("name=\"version\" value=\"").map(|(i, _)| page[i + 22..i + 45].to_owned()).collect();
    assert_eq!(versions.len(), 5, "{versions:?}");
    let oldest = versions.last().unwrap();
    assert_eq!(post("/scenes/restore", &[("version", oldest)]).status, 303);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SCENE);
    for bad in ["../../scene.ron", "20261201-204455-123.ron\0", "/etc/passwd"] {
        let r = post("/scenes/restore", &[("version", bad)]);
        assert_eq!(r.status, 422, "{bad:?}");
        assert!(r.body.contains("is not a version of this scene"), "{}", r.body);
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SCENE);
}

/// The scenes page as a tab just opened sees it: the scene's version and each entry's
/// (title, key) in order.
fn scene_forms(k: &Kiosk, session: &str) -> (String, Vec<(String, String)>) {
    let page = request(here(), k.server.address, "GET", "/scenes", session, "").body;
    let after = |mark: &str| -> Vec<String> {
        page.match_indices(mark).map(|(i, _)| page[i + mark.len()..].split('"').next().unwrap().to_owned()).collect()
    };
    let version = after("name=\"scene_version\" value=\"").first().cloned().expect("a scene version in the page");
    let keys = after("action=\"/scenes/entry/");
    let titles = after("name=\"title\" value=\"");
    (version, titles.into_iter().zip(keys).collect())
}

fn key_of(k: &Kiosk, session: &str, title: &str) -> String {
    let (_, entries) = scene_forms(k, session);
    entries.into_iter().find(|(t, _)| t == title).unwrap_or_else(|| panic!("no entry {title}")).1
}

#[test]
fn a_form_from_before_another_tabs_change_is_refused_and_entries_are_named_not_numbered() {
    let (_dir, path) = scene_file();
    let k = kiosk_with_scene(enabled(), true, Some(&path));
    let a = k.server.address;
    let (session, csrf) = sign_in(&k, here());
    // Two tabs open the page; the second moves Embers to the top.
    let (old_version, old_entries) = scene_forms(&k, &session);
    let night = old_entries.iter().find(|(t, _)| t == "Night").unwrap().1.clone();
    let embers = old_entries.iter().find(|(t, _)| t == "Embers").unwrap().1.clone();
    for _ in 0..2 {
        let (v, _) = scene_forms(&k, &session);
        let body = form(&[("csrf", &csrf), ("scene_version", &v), ("entry", &embers), ("direction", "up")]);
        assert_eq!(request(here(), a, "POST", "/scenes/move", &session, &body).status, 303);
    }
    let moved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(played(&path).entries[0].title, "Embers");
    // The first tab saves its (older) form of Night: refused, and nothing is overwritten.
    let stale = |path: &str, fields: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str()), ("scene_version", old_version.as_str())];
        all.extend_from_slice(fields);
        request(here(), a, "POST", path, &session, &form(&all))
    };
    let r = stale(
        &format!("/scenes/entry/{night}"),
        &[("title", "Night, retitled"), ("duration_s", "30"), ("transition", "cut"), ("weight0", "1")],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("changed since this page was opened") && r.body.contains("make the change again"));
    assert!(!r.body.contains("Night, retitled"), "the page shows the scene as it is now");
    assert_eq!(stale("/scenes/move", &[("entry", &night), ("direction", "down")]).status, 409);
    assert_eq!(stale("/scenes/rotation", &[("order", "Shuffle")]).status, 409);
    assert_eq!(stale("/scenes/text", &[("text", SCENE)]).status, 409);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), moved, "the other tab's change stands");
    // A form without a version (a page from before versions) is stale too.
    let none = form(&[("csrf", &csrf), ("title", "Night"), ("duration_s", "30"), ("weight0", "1")]);
    assert_eq!(request(here(), a, "POST", &format!("/scenes/entry/{night}"), &session, &none).status, 409);

    // A fresh page edits Night where it now is (second), by its key, not its old place.
    let (version, entries) = scene_forms(&k, &session);
    assert_eq!(entries.iter().find(|(t, _)| t == "Night").unwrap().1, night, "a key does not follow the place");
    let body = form(&[
        ("csrf", &csrf),
        ("scene_version", &version),
        ("title", "Night, retitled"),
        ("duration_s", "30"),
        ("transition", "cut"),
        ("weight0", "1"),
    ]);
    assert_eq!(request(here(), a, "POST", &format!("/scenes/entry/{night}"), &session, &body).status, 303);
    let titles: Vec<String> = played(&path).entries.iter().map(|e| e.title.clone()).collect();
    assert_eq!(titles, ["Embers", "Night, retitled", "Waves"]);
}

#[test]
fn health_answers_while_a_slow_scene_save_is_checked() {
    // Style images large enough that checking the scene (which decodes each) takes a while.
    let (dir, path) = scene_file();
    let big = dir.path().join("big.png");
    let noise = image::RgbImage::from_fn(3000, 3000, |x, y| {
        let v = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)).to_le_bytes();
        image::Rgb([v[0], v[1], v[2]])
    });
    noise.save(&big).unwrap();
    // Each file is decoded once (a decoded version is remembered): thirty of them.
    let mut extra = String::new();
    for i in 0..30 {
        let copy = dir.path().join(format!("big-{i}.png"));
        std::fs::copy(&big, &copy).unwrap();
        extra += &format!("(path: \"{}\", weight: 0.03), ", copy.display());
    }
    // Only the save names them: the kiosk's own start has not decoded (and remembered) them.
    let slow = SCENE.replacen("(styles: [(path: ", &format!("(styles: [{extra}(path: "), 1);
    let k = kiosk_with_scene(enabled(), true, Some(&path));
    let a = k.server.address;
    let (session, csrf) = sign_in(&k, here());
    let (version, _) = scene_forms(&k, &session);
    let saver = {
        let (session, body) = (session.clone(), form(&[("csrf", &csrf), ("scene_version", &version), ("text", &slow)]));
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = request(here(), a, "POST", "/scenes/text", &session, &body);
            (r.status, started.elapsed())
        })
    };
    let (mut slowest, mut asked_during) = (Duration::ZERO, 0);
    while !saver.is_finished() {
        let asked = Instant::now();
        assert_eq!(request(here(), a, "GET", "/health", "", "").status, 200);
        slowest = slowest.max(asked.elapsed());
        asked_during += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, took) = saver.join().unwrap();
    assert_eq!(status, 303);
    // However fast this machine decodes, /health was asked several times during the save.
    assert!(asked_during >= 5, "the save was too quick ({took:?}, {asked_during} asks) to show anything");
    assert!(slowest < took / 2, "/health waited {slowest:?} during a save of {took:?}");
}

#[test]
fn the_shipped_scenes_survive_being_written_out_by_the_console() {
    for name in ["default.ron", "evening-blends.ron"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::copy(common::root().join("scenes").join(name), &path).unwrap();
        let desk =
            SceneDesk::new(path.clone(), common::root(), gallery_painter::engine::StyleParams::default(), dir.path());
        let before = played(&path);
        desk.save_scene(&before).unwrap();
        assert_eq!(played(&path), before, "{name}");
        assert_eq!(desk.versions().len(), 1);
    }
}

/// A multipart form as a browser sends it: (content type, body).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----gallery-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn post_bytes(to: SocketAddr, path: &str, cookies: &str, headers: &str, body: &[u8]) -> Reply {
    let mut s = connect(here(), to);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "POST {path} HTTP/1.1\r\nHost: kiosk\r\nConnection: close\r\nCookie: {cookies}\r\n{headers}Content-Length: {}\r\n\r\n", body.len()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, head: head.to_owned(), body: body.to_owned() }
}

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A small, valid PNG whose header claims `w`x`h` pixels (a decompression bomb's shape).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut bytes = png(&image::RgbImage::new(16, 16));
    // IHDR is the first chunk: length (4) "IHDR" (4) width (4) height (4) ... CRC after 13 bytes.
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn an_artwork_is_uploaded_with_limits_previewed_added_to_the_scene_and_deleted_with_a_warning() {
    use gallery_painter::console::artworks::Shelf;
    let (dir, path) = scene_file();
    let shelf_dir = dir.path().join("artworks");
    let weights = (common::weights(), common::cpu(), gallery_painter::engine::StyleParams::default());
    let shelf = Shelf::new(shelf_dir.clone(), common::root(), Some(weights));
    let k = kiosk_with(enabled(), true, Some(&path), Some(shelf));
    let a = k.server.address;
    let (session, csrf) = sign_in(&k, here());
    let token = format!("x-csrf-token: {csrf}\r\n");
    let title = "<script>alert(1)</script> Waves";
    let artwork = common::style("ink_waves.png");
    let labels = [("title", title), ("artist", "Hokusai's pupil"), ("year", "1831"), ("credit", "Public domain")];

    // Refused: no token, not an image, a bomb, too big a body. Nothing is kept.
    let (ct, body) = multipart(&labels, Some(("waves.png", &png(&artwork))));
    assert_eq!(post_bytes(a, "/artworks/upload", &session, &format!("Content-Type: {ct}\r\n"), &body).status, 403);
    let (ct, body) = multipart(&labels, Some(("notes.png", b"not an image at all")));
    let r = post_bytes(a, "/artworks/upload", &session, &format!("{token}Content-Type: {ct}\r\n"), &body);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("not a PNG or JPEG"), "{}", r.body);
    let (ct, body) = multipart(&labels, Some(("bomb.png", &png_claiming(20_000, 20_000))));
    let t0 = Instant::now();
    let r = post_bytes(a, "/artworks/upload", &session, &format!("{token}Content-Type: {ct}\r\n"), &body);
    // Refused from its header, not decoded: quickly even on a loaded machine.
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(r.status, 422);
    assert!(r.body.contains("too large") && r.body.contains("8192x8192"), "{}", r.body);
    let huge = vec![0u8; gallery_painter::console::artworks::UPLOAD_LIMIT + 1024];
    let (ct, body) = multipart(&labels, Some(("huge.png", &huge)));
    assert_eq!(
        post_bytes(a, "/artworks/upload", &session, &format!("{token}Content-Type: {ct}\r\n"), &body).status,
        413
    );
    assert!(std::fs::read_dir(&shelf_dir).map(|d| d.count()).unwrap_or(0) == 0, "nothing kept");

    // Accepted, under a name the server makes; the uploader's name is nowhere. Sent as the
    // page's form is without script: the token a field of the body, no header.
    let page = request(here(), a, "GET", "/artworks", &session, "").body;
    assert!(!page.contains("upload?csrf="), "the token is not in the form's address");
    let with_token: Vec<(&str, &str)> = [("csrf", csrf.as_str())].into_iter().chain(labels).collect();
    let (ct, body) = multipart(&with_token, Some(("../../evil name.png", &png(&artwork))));
    let r = post_bytes(a, "/artworks/upload", &session, &format!("Content-Type: {ct}\r\n"), &body);
    assert_eq!((r.status, r.header("location")), (303, vec!["/artworks?done=uploaded".to_owned()]));
    let files: Vec<String> =
        std::fs::read_dir(&shelf_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(files.iter().all(|f| !f.contains("evil")), "{files:?}");
    let id = files.iter().find_map(|f| f.strip_suffix(".json")).unwrap().to_owned();
    assert!(gallery_painter::console::artworks::well_formed_id(&id));
    let kept = image::open(shelf_dir.join(format!("{id}.png"))).unwrap().to_rgb8();
    assert_eq!(kept, artwork, "the pixels, written again as PNG");

    // The page escapes the title, and "Add to the scene" waits for the preview.
    let page = request(here(), a, "GET", "/artworks", &session, "").body;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Waves") && !page.contains("<script>alert"));
    let end = Instant::now() + Duration::from_secs(180);
    loop {
        let page = request(here(), a, "GET", "/artworks", &session, "").body;
        assert!(!page.contains("No preview"), "{page}");
        if page.contains(&format!("/artworks/{id}/preview.png")) {
            assert!(!page.contains("disabled"), "Add is enabled once the preview is there");
            break;
        }
        assert!(page.contains("Painting a preview") && page.contains("disabled"));
        assert!(Instant::now() < end, "no preview after 180 s");
        std::thread::sleep(Duration::from_millis(500));
    }
    let preview = request(here(), a, "GET", &format!("/artworks/{id}/preview.png"), &session, "");
    assert_eq!(preview.status, 200);
    let preview = image::open(shelf_dir.join(format!("{id}.preview.png"))).unwrap().to_rgb8();
    assert_eq!(preview.width().max(preview.height()), 160);

    // Into the scene, at the end, with its label.
    let r = request(here(), a, "POST", &format!("/artworks/{id}/add-to-scene"), &session, &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303, "{}", r.body);
    let scene = played(&path);
    let last = scene.entries.last().unwrap();
    assert_eq!((last.title.as_str(), last.artist.as_str(), last.year.as_str()), (title, "Hokusai's pupil", "1831"));
    assert_eq!(last.styles[0].path, shelf_dir.join(format!("{id}.png")));

    // Deleting warns that the scene uses it, then takes it out of the scene too.
    let page = request(here(), a, "GET", "/artworks", &session, "").body;
    assert!(page.contains("is in the scene (") && page.contains("Deleting it takes it out of the scene."), "{page}");
    for bad in ["..%2F..%2Fscene", "0123456789abcde%00", "0123456789abcdef"] {
        assert_eq!(
            request(here(), a, "POST", &format!("/artworks/{bad}/delete"), &session, &form(&[("csrf", &csrf)])).status,
            404,
            "{bad}"
        );
        assert_eq!(request(here(), a, "GET", &format!("/artworks/{bad}/image.png"), &session, "").status, 404, "{bad}");
    }
    let r = request(here(), a, "POST", &format!("/artworks/{id}/delete"), &session, &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(played(&path).entries.len(), 3);
    assert!(std::fs::read_dir(&shelf_dir).unwrap().next().is_none(), "its files are gone");
}

/// Twenty wrong passwords from `from` (with `extra` headers): the statuses of the last one and
/// of the right password after them.
fn guess_twenty(k: &Kiosk, from: IpAddr, extra: impl Fn(u32) -> String) -> (u16, u16) {
    let a = k.server.address;
    let login = request_with(from, a, "GET", "/login", "", &extra(0), "");
    let token = login.cookie("gp_login").unwrap();
    let cookies = format!("gp_login={token}");
    let mut last = 0;
    for i in 0..auth::MAX_FAILURES {
        let body = form(&[("csrf", &token), ("password", &format!("guess {i}"))]);
        last = request_with(from, a, "POST", "/login", &cookies, &extra(i), &body).status;
    }
    let right = form(&[("csrf", &token), ("password", PASSWORD)]);
    (last, request_with(from, a, "POST", "/login", &cookies, &extra(0), &right).status)
}

#[test]
fn behind_a_trusted_proxy_each_browser_counts_as_itself_and_nothing_forwarded_is_this_machine() {
    // nginx on this machine (127.0.0.1) in front; 127.0.0.2 is a stranger on the LAN.
    let k = kiosk_behind(enabled(), true, None, None, &["127.0.0.1"]);
    let a = k.server.address;
    let proxy = here();
    let stranger: IpAddr = "127.0.0.2".parse().unwrap();
    let via = |client: &str| format!("X-Forwarded-For: {client}\r\n");
    // /health and /metrics: this machine only; through the proxy, never.
    assert_eq!(request_with(proxy, a, "GET", "/health", "", "", "").status, 200, "a technician's curl on the kiosk");
    for path in ["/health", "/metrics"] {
        assert_eq!(
            request_with(proxy, a, "GET", path, "", &via("203.0.113.5"), "").status,
            403,
            "{path} via the proxy"
        );
        assert_eq!(
            request_with(proxy, a, "GET", path, "", &via("127.0.0.1"), "").status,
            403,
            "{path} naming loopback"
        );
    }
    // A stranger's header is not believed: it stays a stranger, and it is loopback here.
    assert_eq!(request_with(stranger, a, "GET", "/health", "", &via("10.1.1.1"), "").status, 200);

    // One guesser behind the proxy is locked out alone; the curator behind it signs in.
    assert_eq!(guess_twenty(&k, proxy, |_| via("10.0.0.66")), (429, 429));
    let login = request_with(proxy, a, "GET", "/login", "", &via("10.0.0.7"), "");
    let token = login.cookie("gp_login").unwrap();
    let right = form(&[("csrf", &token), ("password", PASSWORD)]);
    let r = request_with(proxy, a, "POST", "/login", &format!("gp_login={token}"), &via("10.0.0.7"), &right);
    assert_eq!(r.status, 303, "the curator behind the proxy was locked out with the guesser: {}", r.head);
    // A stranger that makes up a new address for every try is still one address.
    assert_eq!(guess_twenty(&k, stranger, |i| via(&format!("10.9.0.{i}"))), (429, 429));

    // The proxy carries every browser's connections: more than one address's 12.
    let idle: Vec<TcpStream> = (0..20).map(|_| connect(proxy, a)).collect();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(request_with(proxy, a, "GET", "/login", "", &via("10.0.0.8"), "").status, 200);
    drop(idle);
}
