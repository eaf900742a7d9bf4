//! The take-home links, against the real guest listener on 127.0.0.1: the page and the file,
//! wrong and malformed links, the rate limit on guessing, expiry that deletes the file, and
//! the folder emptied at start.

use crate::common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gallery_painter::i18n::{Catalog, LanguageConfig};
use gallery_painter::share::server::{GuestServer, serve};
use gallery_painter::share::{ShareConfig, ShareLabel, ShareStore};

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

fn get(addr: SocketAddr, path: &str, extra: &str) -> Reply {
    get_from("127.0.0.1".parse().unwrap(), addr, path, extra)
}

/// From another 127.x address (another machine, as the server sees it).
fn get_from(from: std::net::IpAddr, addr: SocketAddr, path: &str, extra: &str) -> Reply {
    let runtime = common::browser::runtime();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        socket.connect(addr).await.unwrap()
    });
    let mut s = stream.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: kiosk\r\nConnection: close\r\n{extra}\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete HTTP reply");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    Reply { status, headers: head.to_ascii_lowercase(), body }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

fn start(config: ShareConfig) -> (Arc<ShareStore>, GuestServer) {
    start_behind(config, &[])
}

/// `proxies`: service.trusted_proxies.
fn start_behind(config: ShareConfig, proxies: &[&str]) -> (Arc<ShareStore>, GuestServer) {
    let texts = Arc::new(Catalog::load(&LanguageConfig::default(), &common::root()).unwrap());
    let config = ShareConfig {
        enabled: true,
        listen: "127.0.0.1:0".into(),
        public_url: "http://kiosk.example:8470".into(),
        ..config
    };
    let store = Arc::new(ShareStore::new(config, &common::root(), texts).unwrap());
    let proxies: Vec<std::net::IpAddr> = proxies.iter().map(|p| p.parse().unwrap()).collect();
    let server = serve(store.clone(), gallery_painter::service::proxies::TrustedProxies::new(&proxies)).unwrap();
    (store, server)
}

fn painting() -> Arc<image::RgbImage> {
    Arc::new(image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 120])))
}

fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

/// The file is written off the caller's thread: wait for it.
fn fetch_png(addr: SocketAddr, token: &str, query: &str) -> Reply {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let r = get(addr, &format!("/p/{token}/painting.png{query}"), "");
        if r.status != 503 || Instant::now() > end {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_link_opens_the_page_and_the_painting_in_the_language_it_was_made_in() {
    let (store, server) = start(ShareConfig::default());
    let label = ShareLabel {
        title: "Nuit <script>alert(1)</script>".into(),
        artist: "Studio".into(),
        year: "2026".into(),
        credit: "Domaine public".into(),
    };
    let offered = store.offer(painting(), Vec::new(), label, "fr");
    assert!(offered.url.starts_with("http://kiosk.example:8470/p/"), "{}", offered.url);
    let token = token_of(&offered.url);
    assert_eq!(token.len(), 32);

    let page = get(server.address, &format!("/p/{token}"), "");
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("<html lang=\"fr\">") && html.contains("Télécharger le tableau"), "{html}");
    assert!(html.contains("Nuit &lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"), "{html}");
    assert!(html.contains(&format!("/p/{token}/painting.png")) && html.contains("dans 30 minutes"), "{html}");
    for header in
        ["cache-control: no-store", "referrer-policy: no-referrer", "content-security-policy: default-src 'none'"]
    {
        assert!(page.headers.contains(header), "{header} missing: {}", page.headers);
    }

    let png = fetch_png(server.address, &token, "");
    assert_eq!(png.status, 200, "{}", png.headers);
    assert!(png.headers.contains("content-type: image/png") && !png.headers.contains("attachment"));
    let decoded = image::load_from_memory(&png.body).unwrap().to_rgb8();
    // The painting, enlarged for the phone (a CPU kiosk's is small), pixel for pixel.
    let expected = gallery_painter::share::for_take_home(&painting()).unwrap_or_else(|| (*painting()).clone());
    assert_eq!(decoded.dimensions(), (1024, 768), "a small painting is enlarged to take home");
    assert!(decoded == expected, "the file is not the painting enlarged");
    let download = fetch_png(server.address, &token, "?download=1");
    assert!(download.headers.contains("content-disposition: attachment"), "{}", download.headers);
    assert_eq!(download.body, png.body);
    // The folder holds the file under a name that is not the token.
    let files: Vec<_> = std::fs::read_dir(store.folder()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(files.len(), 1);
    assert!(!files[0].to_string_lossy().contains(&token));
}

#[test]
fn wrong_or_malformed_links_find_nothing_and_nothing_is_listed() {
    let (store, server) = start(ShareConfig::default());
    let token = token_of(&store.offer(painting(), Vec::new(), ShareLabel::default(), "en").url);
    let other = gallery_painter::ids::new_token();
    for path in [
        "/".to_string(),
        "/p/".to_string(),
        "/p".to_string(),
        format!("/p/{other}"),
        format!("/p/{}", token.to_uppercase()),
        format!("/p/{}", &token[..31]),
        format!("/p/{token}/../../etc/passwd"),
        format!("/p/{token}/other.png"),
        "/p/..%2f..%2fetc%2fpasswd".into(),
        "/health".into(),
    ] {
        let r = get(server.address, &path, "");
        assert_eq!(r.status, 404, "{path}");
        assert!(!String::from_utf8_lossy(&r.body).contains(&token), "{path} leaks the token");
    }
    // The not-found page speaks the phone's language.
    let r = get(server.address, &format!("/p/{other}"), "Accept-Language: es-ES,es;q=0.9,en;q=0.5\r\n");
    assert!(String::from_utf8_lossy(&r.body).contains("Aquí no hay ningún cuadro"));
    assert_eq!(get(server.address, &format!("/p/{token}"), "").status, 200, "the real link still works");
}

#[test]
fn many_wrong_links_from_one_address_are_slowed_down() {
    let (store, server) = start(ShareConfig { misses_per_minute: 5, ..ShareConfig::default() });
    let token = token_of(&store.offer(painting(), Vec::new(), ShareLabel::default(), "en").url);
    // A browser's own requests are not guesses.
    for path in ["/favicon.ico", "/robots.txt", "/", "/apple-touch-icon.png"] {
        assert_eq!(get(server.address, path, "").status, 404);
    }
    for _ in 0..5 {
        let wrong = gallery_painter::ids::new_token();
        assert_eq!(get(server.address, &format!("/p/{wrong}"), "").status, 404);
    }
    // Over the limit every answer is 429, the right link too: a guesser learns nothing more.
    for path in [format!("/p/{}", gallery_painter::ids::new_token()), format!("/p/{token}")] {
        let asked = Instant::now();
        let r = get(server.address, &path, "");
        assert_eq!(r.status, 429, "{path}");
        assert!(r.headers.contains("retry-after: 60"), "{}", r.headers);
        assert!(asked.elapsed() >= Duration::from_millis(450), "the answer was not slowed down");
    }
}

#[test]
fn behind_a_trusted_proxy_one_guesser_is_slowed_alone_and_a_strangers_header_is_not_believed() {
    let (store, server) = start_behind(ShareConfig { misses_per_minute: 3, ..ShareConfig::default() }, &["127.0.0.1"]);
    let token = token_of(&store.offer(painting(), Vec::new(), ShareLabel::default(), "en").url);
    let via = |client: &str| format!("X-Forwarded-For: {client}\r\n");
    let wrong = || format!("/p/{}", gallery_painter::ids::new_token());
    for _ in 0..3 {
        assert_eq!(get(server.address, &wrong(), &via("10.0.0.66")).status, 404);
    }
    assert_eq!(get(server.address, &wrong(), &via("10.0.0.66")).status, 429, "the guesser is slowed");
    let phone = get(server.address, &format!("/p/{token}"), &via("10.0.0.7"));
    assert_eq!(phone.status, 200, "another phone behind the same proxy got the guesser's 429");
    // From a peer that is not a trusted proxy the header means nothing: a new address per
    // try does not reset the count.
    let stranger: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    for i in 0..3 {
        assert_eq!(get_from(stranger, server.address, &wrong(), &via(&format!("10.9.0.{i}"))).status, 404);
    }
    assert_eq!(get_from(stranger, server.address, &wrong(), &via("10.9.0.99")).status, 429);
}

#[test]
fn an_expired_link_gives_410_and_its_file_is_deleted() {
    let (store, server) = start(ShareConfig { expire_min: 1.5 / 60.0, ..ShareConfig::default() });
    // Timed from before the offer: its 1.5 s cannot have begun earlier.
    let offered = Instant::now();
    let token = token_of(&store.offer(painting(), Vec::new(), ShareLabel::default(), "de").url);
    assert_eq!(fetch_png(server.address, &token, "").status, 200);
    assert_eq!(std::fs::read_dir(store.folder()).unwrap().count(), 1);
    // 1.5 s to expire, then the reaper (every second) deletes it.
    let end = offered + Duration::from_secs(10);
    while store.offered() > 0 {
        assert!(Instant::now() < end, "the painting was never deleted");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(offered.elapsed() >= Duration::from_millis(1490), "deleted before its time: {:?}", offered.elapsed());
    let page = get(server.address, &format!("/p/{token}"), "Accept-Language: de\r\n");
    assert_eq!(page.status, 410);
    assert!(String::from_utf8_lossy(&page.body).contains("wie versprochen gelöscht"));
    assert_eq!(fetch_png(server.address, &token, "").status, 410);
    assert_eq!(std::fs::read_dir(store.folder()).unwrap().count(), 0, "the file is gone from disk");
}

#[test]
fn a_configured_folder_is_emptied_of_paintings_left_by_an_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    // Named as the store names its files (a random token); anything else is not its to delete,
    // an artwork in a folder pointed at by mistake included.
    let left_over = format!("{}.png", gallery_painter::ids::new_token());
    std::fs::write(dir.path().join(&left_over), b"x").unwrap();
    std::fs::write(dir.path().join("starry-night.png"), b"an artwork").unwrap();
    std::fs::write(dir.path().join("README"), b"kept").unwrap();
    let (store, _server) = start(ShareConfig { folder: Some(dir.path().to_path_buf()), ..ShareConfig::default() });
    assert!(!dir.path().join(&left_over).exists(), "the earlier run's painting is deleted");
    assert!(dir.path().join("starry-night.png").exists() && dir.path().join("README").exists());
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(store.folder()).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700, "only the installation reads the paintings");
}

/// Twelve snapshots of a painting coming about: a red sketch growing into the painting.
fn snapshots() -> Vec<Arc<image::RgbImage>> {
    (0..12u32)
        .map(|k| {
            // Early levels are smaller (a coarse-to-fine schedule): the animation scales them up.
            let (w, h) = if k < 4 { (32, 24) } else { (64, 48) };
            Arc::new(image::RgbImage::from_fn(w, h, |x, y| image::Rgb([200, ((x + y) * k) as u8, (k * 20) as u8])))
        })
        .collect()
}

fn apng_frames(bytes: &[u8]) -> (u32, u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes.to_vec())).read_info().unwrap();
    let info = reader.info();
    let control = info.animation_control.expect("an animated PNG");
    (control.num_frames, info.width, info.height)
}

#[test]
fn on_a_phone_the_making_of_plays_beside_the_painting_and_goes_with_it_at_expiry() {
    let (store, server) = start(ShareConfig { expire_min: 20.0 / 60.0, ..ShareConfig::default() });
    let offered_at = Instant::now();
    let offered =
        store.offer(painting(), snapshots(), ShareLabel { title: "Night".into(), ..Default::default() }, "en");
    let token = token_of(&offered.url);
    let base = format!("http://{}", server.address);
    let (_driver, driver_url) = common::browser::chromedriver();
    let shots = std::env::var_os("E2E_SCREENSHOTS").map(std::path::PathBuf::from);
    let path = common::browser::runtime().block_on(async {
        use fantoccini::Locator::Css;
        // A phone: 390 x 844 CSS pixels at 3x, touch, a phone's browser.
        let phone = serde_json::json!({ "mobileEmulation": {
            "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 3.0, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
        }});
        let client = common::browser::chromium(&driver_url, &[], phone).await;
        client.goto(&format!("{base}/p/{token}")).await.unwrap();
        let heading = client.wait().for_element(Css("h2")).await.unwrap().text().await.unwrap();
        assert_eq!(heading, "How your painting was made");
        // Loaded and decoded by the browser (the page waits for the file being written).
        let end = Instant::now() + Duration::from_secs(15);
        let (natural, shown) = loop {
            let v = client
                .execute(
                    "const i = document.querySelector('img.making-of'); \
                     return i.complete ? [i.naturalWidth, i.getBoundingClientRect().width] : null;",
                    vec![],
                )
                .await
                .unwrap();
            if let Some(a) = v.as_array() {
                break (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
            }
            assert!(Instant::now() < end, "the making-of did not load");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(natural, 64.0, "at the painting's size");
        // Fits the phone's width, inside the page's margins.
        assert!(shown > 300.0 && shown <= 390.0, "shown {shown} px wide on a 390 px phone");
        // What the phone got (the page's rules let it fetch nothing by script): every frame.
        let src = client.execute("return document.querySelector('img.making-of').src", vec![]).await.unwrap();
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("take-home-phone.png"), client.screenshot().await.unwrap()).unwrap();
        }
        client.close().await.unwrap();
        src.as_str().unwrap().strip_prefix(&base).unwrap().to_string()
    });
    let bytes = get(server.address, &path, "").body;
    assert_eq!(apng_frames(&bytes), (12, 64, 48));
    assert_eq!(std::fs::read_dir(store.folder()).unwrap().count(), 2, "the painting and its making-of");
    // At expiry both go, from the disk and from the links.
    let end = offered_at + Duration::from_secs(40);
    while store.offered() > 0 {
        assert!(Instant::now() < end, "the painting was never deleted");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_dir(store.folder()).unwrap().count(), 0, "both files are gone from disk");
    assert_eq!(get(server.address, &format!("/p/{token}/making-of.png"), "").status, 410);
}

#[test]
fn a_painting_without_snapshots_has_no_making_of_and_its_address_finds_nothing() {
    let (store, server) = start(ShareConfig::default());
    let token = token_of(&store.offer(painting(), Vec::new(), ShareLabel::default(), "en").url);
    assert_eq!(fetch_png(server.address, &token, "").status, 200);
    let page = String::from_utf8(get(server.address, &format!("/p/{token}"), "").body).unwrap();
    assert!(!page.contains("making-of"), "{page}");
    assert_eq!(get(server.address, &format!("/p/{token}/making-of.png"), "").status, 404);
}
