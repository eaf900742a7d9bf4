//! The console's routes (axum). Signing in is the only way past the staff layer
//! ([`sign_in`]), which guards every route but the sign-in page and the static files: a
//! session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` behind TLS) and, on every request
//! that changes something, the session's CSRF token. Each staff action writes one audit line
//! (target `audit`). One file per desk: now (and statistics), scenes, artworks.

mod artworks_desk;
mod now;
mod scenes_desk;
mod sign_in;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::auth::{self, LoginLimiter, Sessions};
use super::{Board, ConsoleConfig};
use sign_in::Staff;

pub const SESSION_COOKIE: &str = "gp_session";
/// The sign-in form's own CSRF token (there is no session yet to hold one).
pub const LOGIN_COOKIE: &str = "gp_login";
/// Forms are small: a larger body is refused with 413 before it is read.
pub const FORM_LIMIT: usize = 16 * 1024;
/// A scene file sent whole from the editor.
pub const SCENE_TEXT_LIMIT: usize = 256 * 1024;
/// Password checks at once (argon2id takes ~19 MiB and tens of milliseconds each).
const PARALLEL_CHECKS: usize = 2;

/// The console's state, shared by its routes.
pub struct Console {
    pub board: Arc<Board>,
    /// The running scene's file, when the display plays one.
    scenes: Option<super::scenes::SceneDesk>,
    /// Uploaded artworks.
    shelf: Option<Arc<super::artworks::Shelf>>,
    state_dir: PathBuf,
    behind_tls: bool,
    sessions: Mutex<Sessions>,
    limiter: Mutex<LoginLimiter>,
    checks: tokio::sync::Semaphore,
}

impl Console {
    pub fn new(
        config: &ConsoleConfig,
        state_dir: PathBuf,
        board: Arc<Board>,
        scenes: Option<super::scenes::SceneDesk>,
        shelf: Option<super::artworks::Shelf>,
    ) -> Arc<Console> {
        let (idle, longest) = config.session_times();
        if !auth::password_path(&state_dir).exists() {
            tracing::warn!(
                "console: no staff password in {}; nobody can sign in until one is set with `gallery-painter console set-password`",
                state_dir.display()
            );
        }
        Arc::new(Console {
            board,
            scenes,
            shelf: shelf.map(Arc::new),
            state_dir,
            behind_tls: config.behind_tls,
            sessions: Mutex::new(Sessions::new(idle, longest)),
            limiter: Mutex::default(),
            checks: tokio::sync::Semaphore::new(PARALLEL_CHECKS),
        })
    }

    fn cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
        let secure = if self.behind_tls { "; Secure" } else { "" };
        let age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
        HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}"))
            .expect("tokens are hex digits")
    }
}

/// One line per staff action: what, and from where (the log line carries when).
fn audit(peer: SocketAddr, who: &str, what: &str) {
    tracing::info!(target: "audit", "{what} by {who} from {}", peer.ip());
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// File work (reading, decoding and checking images, writing a scene) on the blocking pool:
/// the server's one thread keeps answering `/health` and `/metrics` meanwhile.
async fn off_thread(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| text(StatusCode::INTERNAL_SERVER_ERROR, &format!("the request failed ({e})")))
}

fn text(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{body}\n")).into_response()
}

/// A signed-in staff member's request: the console, who (put there by the staff layer), and
/// from where. The opening every staff handler shares, as one extractor.
pub(super) struct StaffRequest {
    c: Arc<Console>,
    staff: Staff,
    peer: SocketAddr,
}

impl FromRequestParts<Arc<Console>> for StaffRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Response> {
        let staff = parts.extensions.get::<Staff>().cloned();
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        match (staff, peer) {
            (Some(staff), Some(peer)) => Ok(StaffRequest { c: console.clone(), staff, peer }),
            // Only behind the staff layer, on a server that records peers: a routing mistake.
            _ => Err(text(StatusCode::UNAUTHORIZED, "sign in first")),
        }
    }
}

/// A staff request to the scenes desk; 404 where the display plays no scene file.
pub(super) struct AtScenes(StaffRequest);

impl std::ops::Deref for AtScenes {
    type Target = StaffRequest;
    fn deref(&self) -> &StaffRequest {
        &self.0
    }
}

impl AtScenes {
    fn desk(&self) -> &super::scenes::SceneDesk {
        self.0.c.scenes.as_ref().expect("checked when the request was taken")
    }
}

impl FromRequestParts<Arc<Console>> for AtScenes {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Response> {
        let r = StaffRequest::from_request_parts(parts, console).await?;
        if r.c.scenes.is_none() {
            return Err(text(StatusCode::NOT_FOUND, "this display plays no scene file"));
        }
        Ok(AtScenes(r))
    }
}

/// A staff request to the artworks desk; 404 where uploads are off.
pub(super) struct AtShelf(StaffRequest);

impl std::ops::Deref for AtShelf {
    type Target = StaffRequest;
    fn deref(&self) -> &StaffRequest {
        &self.0
    }
}

impl AtShelf {
    fn shelf(&self) -> &Arc<super::artworks::Shelf> {
        self.0.c.shelf.as_ref().expect("checked when the request was taken")
    }

    /// The same request at the scenes desk (adding an artwork to the scene), if there is one.
    fn at_scenes(&self) -> Option<AtScenes> {
        let r = &self.0;
        r.c.scenes.is_some().then(|| AtScenes(StaffRequest { c: r.c.clone(), staff: r.staff.clone(), peer: r.peer }))
    }
}

impl FromRequestParts<Arc<Console>> for AtShelf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Self, Response> {
        let r = StaffRequest::from_request_parts(parts, console).await?;
        if r.c.shelf.is_none() {
            return Err(text(StatusCode::NOT_FOUND, "uploads are off on this kiosk"));
        }
        Ok(AtShelf(r))
    }
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The console's routes. Merge with [`crate::service::http::health_routes`] on one server.
pub fn router(console: Arc<Console>) -> Router {
    let staff = Router::new()
        .route("/", get(|| async { Redirect::to("/now") }))
        .route("/now", get(now::now_page))
        .route("/now/status.json", get(now::now_status))
        .route("/now/screen.jpg", get(now::now_screen))
        .route("/now/{action}", post(now::now_action))
        .route("/artworks", get(artworks_desk::artworks_get))
        .route(
            "/artworks/upload",
            post(artworks_desk::artwork_upload).layer(DefaultBodyLimit::max(super::artworks::UPLOAD_LIMIT)),
        )
        .route("/artworks/{id}/{file}", get(artworks_desk::artwork_file).post(artworks_desk::artwork_action))
        .route("/scenes", get(scenes_desk::scenes_get))
        .route("/scenes/entry/{key}", post(scenes_desk::scene_entry))
        .route("/scenes/move", post(scenes_desk::scene_move))
        .route("/scenes/rotation", post(scenes_desk::scene_rotation))
        .route("/scenes/text", post(scenes_desk::scene_text).layer(DefaultBodyLimit::max(SCENE_TEXT_LIMIT)))
        .route("/scenes/restore", post(scenes_desk::scene_restore))
        .route("/statistics", get(now::statistics_page))
        .route("/statistics.csv", get(now::statistics_csv))
        .route("/logout", post(sign_in::logout))
        .route_layer(from_fn_with_state(console.clone(), sign_in::staff_only));
    let open = Router::new()
        .route("/login", get(sign_in::login_page).post(sign_in::login_submit))
        .route("/static/console.css", get(|| async { static_file("text/css", include_str!("static/console.css")) }))
        .route(
            "/static/console.js",
            get(|| async { static_file("text/javascript", include_str!("static/console.js")) }),
        );
    open.merge(staff)
        .with_state(console)
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(map_response(sign_in::security_headers))
}
