//! The guest listener: HTTP/1.1 (hyper on a one-thread tokio runtime, on a thread of its own),
//! separate from the staff's `/health` server. It answers `/p/<token>` (the page) and
//! `/p/<token>/painting.png` (the file; `?download=1` as an attachment) and
//! `/p/<token>/making-of.png` (the animation of it being made), nothing else.
//!
//! Against guessing and crowding: an address that sent `misses_per_minute` wrong links gets
//! 429 for everything, after a pause, until its minute is over; at most [`PER_ADDRESS`]
//! connections per address and [`MAX_CONNECTIONS`] in all, each with header and total
//! time limits. Expired paintings are deleted every second.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

use super::{Lookup, ShareStore, page, well_formed};

pub const MAX_CONNECTIONS: usize = 64;
pub const PER_ADDRESS: usize = 8;
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// Answers to an address over its limit wait this long: guessing gets slower still.
const LIMITED_PAUSE: Duration = Duration::from_millis(500);

pub struct GuestServer {
    pub address: SocketAddr,
    _thread: std::thread::JoinHandle<()>,
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .header("x-robots-tag", "noindex")
        .header(
            "content-security-policy",
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        )
        .body(Full::new(body.into()))
        .expect("a valid response")
}

/// The first offered language the phone asks for (Accept-Language), else the reference one.
fn phone_language(req: &Request<Incoming>, store: &ShareStore) -> String {
    let wanted = req.headers().get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("");
    for tag in wanted.split(',') {
        let tag = tag.split(';').next().unwrap_or("").trim();
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        if let Some(lang) = store.texts.languages().find(|l| l.eq_ignore_ascii_case(tag) || *l == primary) {
            return lang.to_string();
        }
    }
    store.texts.languages().next().unwrap_or("en").to_string()
}

fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    respond(status, "text/html; charset=utf-8", body)
}

/// How long a phone's request waits for a file still being written.
const FILE_WAIT: Duration = Duration::from_secs(8);

/// The file once it is written (None: not within [`FILE_WAIT`], or the painting went).
async fn written(store: &ShareStore, token: &str, file: &File) -> Option<std::path::PathBuf> {
    let deadline = tokio::time::Instant::now() + FILE_WAIT;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Lookup::Found(e) = store.lookup(token) else { return None };
        let path = match file {
            File::Painting => e.file,
            File::MakingOf if e.making_of_frames == 0 => return None,
            File::MakingOf => e.making_of,
        };
        if path.is_some() {
            return path;
        }
    }
    None
}

/// The files of a painting's page.
enum File {
    Painting,
    /// The animated PNG of it being made.
    MakingOf,
}

async fn answer(req: Request<Incoming>, peer: IpAddr, store: Arc<ShareStore>) -> Response<Full<Bytes>> {
    let lang = phone_language(&req, &store);
    if store.limited(peer) {
        tokio::time::sleep(LIMITED_PAUSE).await;
        let mut r = html(
            StatusCode::TOO_MANY_REQUESTS,
            page::message(&store.texts, &lang, "share-page-title", "share-page-slow-down"),
        );
        r.headers_mut().insert("retry-after", "60".parse().expect("a header value"));
        return r;
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
        r.headers_mut().insert("allow", "GET, HEAD".parse().expect("a header value"));
        return r;
    }
    let path = req.uri().path();
    let (token, file) = match path.strip_prefix("/p/").map(|rest| rest.split_once('/').unwrap_or((rest, ""))) {
        Some((token, "")) => (token, None),
        Some((token, "painting.png")) => (token, Some(File::Painting)),
        Some((token, "making-of.png")) => (token, Some(File::MakingOf)),
        _ => ("", None),
    };
    // Only a link under /p/ is a try at a token: a phone's own /favicon.ico is not a guess.
    let guess = path.starts_with("/p/");
    let not_found = || {
        if guess {
            store.missed(peer);
        }
        html(StatusCode::NOT_FOUND, page::message(&store.texts, &lang, "share-page-title", "share-page-not-found"))
    };
    if !well_formed(token) {
        return not_found();
    }
    let entry = match store.lookup(token) {
        Lookup::Found(e) => e,
        Lookup::Gone => {
            return html(
                StatusCode::GONE,
                page::message(&store.texts, &lang, "share-page-gone-title", "share-page-gone"),
            );
        }
        Lookup::Unknown => return not_found(),
    };
    let Some(file) = file else {
        return html(StatusCode::OK, page::painting(&store.texts, token, &entry, SystemTime::now()));
    };
    let (path, name) = match file {
        File::Painting => (entry.file.clone(), "painting.png"),
        File::MakingOf if entry.making_of_frames == 0 => return not_found(),
        File::MakingOf => (entry.making_of.clone(), "making-of.png"),
    };
    // Still being written (the painting a moment, its making-of a second or two): an <img>
    // does not ask again, so the answer waits for it.
    let path = match path {
        Some(p) => p,
        None => match written(&store, token, &file).await {
            Some(p) => p,
            None => {
                let mut r = respond(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "one moment\n");
                r.headers_mut().insert("retry-after", "1".parse().expect("a header value"));
                return r;
            }
        },
    };
    // A painting is a few hundred kB: read in place rather than pull in tokio's fs.
    match std::fs::read(&path) {
        Ok(bytes) => {
            let mut r = respond(StatusCode::OK, "image/png", bytes);
            if req.uri().query().is_some_and(|q| q.split('&').any(|p| p == "download=1")) {
                r.headers_mut().insert(
                    "content-disposition",
                    format!("attachment; filename=\"{name}\"").parse().expect("a header value"),
                );
            }
            r
        }
        // Deleted between the lookup and the read: it has just expired.
        Err(_) => {
            html(StatusCode::GONE, page::message(&store.texts, &lang, "share-page-gone-title", "share-page-gone"))
        }
    }
}

const LIMITS: crate::service::listener::Limits = crate::service::listener::Limits {
    per_address: PER_ADDRESS,
    total: MAX_CONNECTIONS,
    header_timeout: Duration::from_secs(5),
    connection_timeout: CONNECTION_TIMEOUT,
    keep_alive: true,
};

/// Binds `share.listen` and serves until the process ends. Behind a trusted proxy, limits
/// count the phone's address from `X-Forwarded-For` (one guesser does not slow every phone).
pub fn serve(store: Arc<ShareStore>, proxies: crate::service::proxies::TrustedProxies) -> std::io::Result<GuestServer> {
    use crate::service::listener;
    let addr: SocketAddr = store
        .config()
        .listen
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("share.listen: {e}")))?;
    let (listener, address) = listener::bind(addr)?;
    let thread = listener::spawn_thread("guest-listener", move || async move {
        let reaper = store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                reaper.reap();
            }
        });
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        listener::serve(listener, LIMITS, &proxies.clone(), |peer| {
            let (store, proxies) = (store.clone(), proxies.clone());
            hyper::service::service_fn(move |req: Request<Incoming>| {
                let store = store.clone();
                let client = proxies.client(peer.ip(), req.headers()).ip;
                async move { Ok::<_, Infallible>(answer(req, client, store).await) }
            })
        })
        .await
    })?;
    tracing::info!("share: the guest listener serves take-home pages on http://{address}/p/<token>");
    Ok(GuestServer { address, _thread: thread })
}
