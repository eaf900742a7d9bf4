//! The console's routes (axum). Signing in is the only way past [`staff_only`], which guards
//! every route but the sign-in page and the static files: a session cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` behind TLS) and, on every request that changes something, the
//! session's CSRF token. Each staff action writes one audit line (target `audit`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::auth::{self, Check, LoginLimiter, Session, Sessions};
use super::{Board, ConsoleConfig, StaffCommand, pages};

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

fn text(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{body}\n")).into_response()
}

/// The signed-in staff member of a request (put there by [`staff_only`]).
#[derive(Clone)]
struct Staff {
    token: String,
    session: Session,
}

impl Staff {
    fn who(&self) -> String {
        format!("staff session #{}", self.session.number)
    }
}

/// Refuses a request without a valid session (a page: to the sign-in; anything else: 401) and
/// a request that changes something without the session's CSRF token (403).
async fn staff_only(State(c): State<Arc<Console>>, mut req: Request, next: Next) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let session =
        token.as_deref().and_then(|t| c.sessions.lock().unwrap_or_else(|e| e.into_inner()).touch(t, Instant::now()));
    let (Some(token), Some(session)) = (token, session) else {
        return if matches!(*req.method(), Method::GET | Method::HEAD)
            && !req.uri().path().ends_with(".json")
            && !req.uri().path().ends_with(".csv")
            && !req.uri().path().ends_with(".png")
        {
            Redirect::to("/login").into_response()
        } else {
            text(StatusCode::UNAUTHORIZED, "sign in first: /login")
        };
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let (parts, body) = req.into_parts();
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let limit = match parts.uri.path() {
            "/scenes/text" => SCENE_TEXT_LIMIT,
            "/artworks/upload" => super::artworks::UPLOAD_LIMIT,
            _ => FORM_LIMIT,
        };
        if declared.is_some_and(|n| n > limit) {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "the request is larger than the console accepts");
        }
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "the request is larger than the console accepts");
        };
        let from_header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let sent = from_header
            .or_else(|| form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned()));
        if !sent.is_some_and(|s| auth::same(&s, &session.csrf)) {
            return text(
                StatusCode::FORBIDDEN,
                "this form is out of date or did not come from the console: reload the page",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(Staff { token, session });
    next.run(req).await
}

/// Headers on every console answer: nothing from elsewhere, never framed, never cached.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    r
}

async fn login_page(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let signed_in = cookie(&headers, SESSION_COOKIE)
        .is_some_and(|t| c.sessions.lock().unwrap_or_else(|e| e.into_inner()).touch(t, Instant::now()).is_some());
    if signed_in {
        return Redirect::to("/now").into_response();
    }
    let token = cookie(&headers, LOGIN_COOKIE).filter(|t| crate::share::well_formed(t)).map(str::to_owned);
    let token = token.unwrap_or_else(crate::share::new_token);
    ([(header::SET_COOKIE, c.cookie(LOGIN_COOKIE, &token, None))], pages::login(&token, None)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let retry_page = |wait: Duration| {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let token = cookie(&headers, LOGIN_COOKIE).unwrap_or_default().to_owned();
        let problem = format!("Too many wrong passwords from this device. Try again in {minutes} min.");
        let mut r = (StatusCode::TOO_MANY_REQUESTS, pages::login(&token, Some(&problem))).into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        r
    };
    let limited = c.limiter.lock().unwrap_or_else(|e| e.into_inner()).wait(peer.ip(), Instant::now());
    if let Some(wait) = limited {
        audit(peer, "somebody", "sign-in refused (too many wrong passwords)");
        return retry_page(wait);
    }
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same(expected, &form.csrf) {
        audit(peer, "somebody", "sign-in refused (no valid form token)");
        return text(StatusCode::FORBIDDEN, "this sign-in form is out of date: open /login again");
    }
    let check = {
        let _permit = c.checks.acquire().await;
        let state_dir = c.state_dir.clone();
        tokio::task::spawn_blocking(move || auth::check_password(&state_dir, &form.password))
            .await
            .unwrap_or_else(|e| Check::NotSet(format!("the check failed: {e}")))
    };
    match check {
        Check::Right => {
            c.limiter.lock().unwrap_or_else(|e| e.into_inner()).succeeded(peer.ip());
            let (token, session) = c.sessions.lock().unwrap_or_else(|e| e.into_inner()).start(Instant::now());
            audit(peer, &format!("staff session #{}", session.number), "signed in");
            let mut r = Redirect::to("/now").into_response();
            r.headers_mut().append(header::SET_COOKIE, c.cookie(SESSION_COOKIE, &token, None));
            r.headers_mut().append(header::SET_COOKIE, c.cookie(LOGIN_COOKIE, "", Some(0)));
            r
        }
        Check::Wrong => {
            let wait = {
                let mut limiter = c.limiter.lock().unwrap_or_else(|e| e.into_inner());
                limiter.failed(peer.ip(), Instant::now());
                limiter.wait(peer.ip(), Instant::now())
            };
            audit(peer, "somebody", "wrong password");
            match wait {
                Some(wait) => retry_page(wait),
                None => (StatusCode::UNAUTHORIZED, pages::login(expected, Some("That password is not right.")))
                    .into_response(),
            }
        }
        Check::NotSet(why) => {
            tracing::warn!("console: nobody can sign in: {why}");
            let problem =
                "No staff password is set on this kiosk. On the kiosk, run: gallery-painter console set-password";
            (StatusCode::SERVICE_UNAVAILABLE, pages::login(expected, Some(problem))).into_response()
        }
    }
}

async fn logout(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
) -> Response {
    c.sessions.lock().unwrap_or_else(|e| e.into_inner()).end(&staff.token);
    audit(peer, &staff.who(), "signed out");
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, c.cookie(SESSION_COOKIE, "", Some(0)));
    r
}

#[derive(Deserialize)]
struct NowQuery {
    done: Option<String>,
}

async fn now_page(
    State(c): State<Arc<Console>>,
    axum::Extension(staff): axum::Extension<Staff>,
    Query(q): Query<NowQuery>,
) -> Response {
    let health = c.board.health();
    let verdict = health.verdict(Instant::now());
    let done = q.done.as_deref().and_then(StaffCommand::from_name).map(pages::done_message);
    pages::now(&staff.session.csrf, &health, &c.board.now_view(), &verdict, done).into_response()
}

async fn now_status(State(c): State<Arc<Console>>) -> Response {
    let health = c.board.health();
    let view = c.board.now_view();
    let verdict = health.verdict(Instant::now());
    let status = serde_json::json!({
        "healthy": verdict.is_ok(),
        "health": match &verdict { Ok(v) => format!("OK: {v}"), Err(e) => format!("Needs attention: {e}") },
        "artwork": health.artwork,
        "journey": view.journey,
        "rotation": if view.rotation_paused { "paused by staff" } else { "rotating" },
        "painter": format!("{}, {:.1} steps/s", health.worker_state, health.iterations_per_second),
        "camera": health.camera_state,
        "visitors": health.visitors.to_string(),
    });
    ([(header::CONTENT_TYPE, "application/json")], status.to_string()).into_response()
}

async fn now_screen(State(c): State<Arc<Console>>) -> Response {
    c.board.want_screen(Instant::now());
    match c.board.now_view().screen_jpeg {
        Some(jpeg) => ([(header::CONTENT_TYPE, "image/jpeg")], jpeg.to_vec()).into_response(),
        // The display takes a picture within seconds of being asked; the page asks again.
        None => text(StatusCode::SERVICE_UNAVAILABLE, "no picture of the display yet"),
    }
}

async fn now_action(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Path(action): Path<String>,
) -> Response {
    let Some(command) = StaffCommand::from_name(&action) else {
        return text(StatusCode::NOT_FOUND, "no such action");
    };
    if !c.board.send(command) {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the display is not taking commands; see /health");
    }
    audit(peer, &staff.who(), command.name());
    Redirect::to(&format!("/now?done={}", command.name())).into_response()
}

async fn statistics_page(State(c): State<Arc<Console>>, axum::Extension(staff): axum::Extension<Staff>) -> Response {
    let today = chrono::Local::now().date_naive();
    pages::statistics(&staff.session.csrf, &c.board.stats(), today).into_response()
}

async fn statistics_csv(State(c): State<Arc<Console>>) -> Response {
    let csv = c.board.stats().csv();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"gallery-statistics.csv\""),
        ],
        csv,
    )
        .into_response()
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

fn scenes_page(c: &Console, csrf: &str, problem: Option<String>, edited: Option<&str>, done: Option<&str>) -> Response {
    let Some(desk) = &c.scenes else {
        return text(StatusCode::NOT_FOUND, "this display plays no scene file");
    };
    let current = desk.text();
    let scene = desk.scene();
    let problem = problem.or_else(|| current.as_ref().err().map(|e| e.to_string()));
    let file_text = current.unwrap_or_default();
    let versions = desk.versions();
    let view = pages::ScenesView {
        file: desk.path.display().to_string(),
        scene: scene.as_ref().ok(),
        text: edited.unwrap_or(&file_text),
        versions: &versions,
        problem: problem.clone(),
        done,
    };
    let status = if problem.is_some() && edited.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, pages::scenes(csrf, &view)).into_response()
}

async fn scenes_get(
    State(c): State<Arc<Console>>,
    axum::Extension(staff): axum::Extension<Staff>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let done = match q.done.as_deref() {
        Some("saved") => Some("Saved. The display plays the new scene."),
        Some("restored") => Some("Restored. The display plays that version."),
        _ => None,
    };
    scenes_page(&c, &staff.session.csrf, None, None, done)
}

/// Saves a change made by `change` to the scene, or shows why it was refused.
fn change_scene(
    c: &Console,
    peer: SocketAddr,
    staff: &Staff,
    what: &str,
    change: impl FnOnce(&mut crate::scene::Scene) -> Result<(), String>,
) -> Response {
    let Some(desk) = &c.scenes else {
        return text(StatusCode::NOT_FOUND, "this display plays no scene file");
    };
    let result = desk.scene().map_err(|e| e.to_string()).and_then(|mut scene| {
        change(&mut scene)?;
        desk.save_scene(&scene).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => {
            audit(peer, &staff.who(), what);
            Redirect::to("/scenes?done=saved").into_response()
        }
        Err(problem) => {
            let mut r = scenes_page(c, &staff.session.csrf, Some(problem), None, None);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

type Fields = std::collections::HashMap<String, String>;

fn number(fields: &Fields, name: &str, label: &str) -> Result<f64, String> {
    let v = fields.get(name).map(|s| s.trim()).unwrap_or("");
    v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("{label}: `{v}` is not a number"))
}

async fn scene_entry(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Path(index): Path<usize>,
    Form(f): Form<Fields>,
) -> Response {
    use crate::scene::Transition;
    let what = format!("scene entry {} edited", index + 1);
    change_scene(&c, peer, &staff, &what, |scene| {
        let e = scene.entries.get_mut(index).ok_or("that artwork is no longer in the scene; reload the page")?;
        let text = |name: &str| f.get(name).map(|s| s.trim().to_owned()).unwrap_or_default();
        e.title = text("title");
        if e.title.is_empty() {
            return Err("Title: an artwork needs a title".into());
        }
        e.artist = text("artist");
        e.year = text("year");
        e.credit = text("credit");
        e.duration_s = number(&f, "duration_s", "On show (seconds)")?;
        e.transition = match f.get("transition").map(String::as_str) {
            Some("cut") => Transition::Cut,
            _ => {
                Transition::Crossfade { ms: number(&f, "transition_ms", "Crossfade (ms)")?.clamp(0.0, 60_000.0) as u32 }
            }
        };
        for (k, s) in e.styles.iter_mut().enumerate() {
            s.weight = number(&f, &format!("weight{k}"), &format!("Blend weight of {}", s.path.display()))?;
        }
        Ok(())
    })
}

async fn scene_move(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Form(f): Form<Fields>,
) -> Response {
    let from = number(&f, "from", "from").unwrap_or(-1.0);
    let to = number(&f, "to", "to").unwrap_or(-1.0);
    let what = format!("scene entry {} moved to {}", from + 1.0, to + 1.0);
    change_scene(&c, peer, &staff, &what, |scene| {
        let n = scene.entries.len() as f64;
        if !(0.0..n).contains(&from) || !(0.0..n).contains(&to) {
            return Err("that artwork is no longer there; reload the page".into());
        }
        let entry = scene.entries.remove(from as usize);
        scene.entries.insert(to as usize, entry);
        Ok(())
    })
}

async fn scene_rotation(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Form(f): Form<Fields>,
) -> Response {
    use crate::scene::{OpeningHours, Order};
    change_scene(&c, peer, &staff, "scene rotation and hours edited", |scene| {
        scene.order =
            if f.get("order").map(String::as_str) == Some("Shuffle") { Order::Shuffle } else { Order::InOrder };
        scene.hours = match f.get("hours").map(String::as_str) {
            Some("on") => Some(OpeningHours {
                open: f.get("open").cloned().unwrap_or_default(),
                close: f.get("close").cloned().unwrap_or_default(),
                closed_on: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                    .into_iter()
                    .filter(|d| f.get(&format!("closed_{d}")).is_some_and(|v| v == "on"))
                    .map(str::to_owned)
                    .collect(),
            }),
            _ => None,
        };
        Ok(())
    })
}

async fn scene_text(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Form(f): Form<Fields>,
) -> Response {
    let Some(desk) = &c.scenes else {
        return text(StatusCode::NOT_FOUND, "this display plays no scene file");
    };
    // Browsers send line ends as CRLF.
    let edited = f.get("text").map(|t| t.replace("\r\n", "\n")).unwrap_or_default();
    match desk.save_text(&edited) {
        Ok(()) => {
            audit(peer, &staff.who(), "scene file edited");
            Redirect::to("/scenes?done=saved").into_response()
        }
        Err(e) => scenes_page(&c, &staff.session.csrf, Some(e.to_string()), Some(&edited), None),
    }
}

async fn scene_restore(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Form(f): Form<Fields>,
) -> Response {
    let Some(desk) = &c.scenes else {
        return text(StatusCode::NOT_FOUND, "this display plays no scene file");
    };
    let version = f.get("version").cloned().unwrap_or_default();
    match desk.restore(&version) {
        Ok(()) => {
            audit(peer, &staff.who(), &format!("scene version {version} restored"));
            Redirect::to("/scenes?done=restored").into_response()
        }
        Err(e) => {
            let mut r = scenes_page(&c, &staff.session.csrf, Some(e.to_string()), None, None);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

fn artworks_page(c: &Console, csrf: &str, problem: Option<&str>, done: Option<&str>) -> Response {
    let Some(shelf) = &c.shelf else {
        return text(StatusCode::NOT_FOUND, "uploads are off on this kiosk");
    };
    let scene = c.scenes.as_ref().and_then(|d| d.scene().ok());
    let rows: Vec<pages::ArtworkRow> = shelf
        .list()
        .into_iter()
        .map(|artwork| pages::ArtworkRow {
            preview: shelf.preview(&artwork.id),
            used_by: scene
                .as_ref()
                .map(|s| super::artworks::used_by(s, &shelf.scene_path(&artwork.id)))
                .unwrap_or_default(),
            artwork,
        })
        .collect();
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, pages::artworks(csrf, &rows, problem, done)).into_response()
}

async fn artworks_get(
    State(c): State<Arc<Console>>,
    axum::Extension(staff): axum::Extension<Staff>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let done = match q.done.as_deref() {
        Some("uploaded") => Some("Uploaded. Its preview is being painted; add it to the scene when you like it."),
        Some("added") => Some("Added to the end of the scene."),
        Some("deleted") => Some("Deleted."),
        _ => None,
    };
    artworks_page(&c, &staff.session.csrf, None, done)
}

async fn artwork_upload(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let Some(shelf) = c.shelf.clone() else {
        return text(StatusCode::NOT_FOUND, "uploads are off on this kiosk");
    };
    let mut label = super::artworks::Label::default();
    let mut image: Option<axum::body::Bytes> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return artworks_page(
                    &c,
                    &staff.session.csrf,
                    Some(&format!("the form did not arrive whole ({e})")),
                    None,
                );
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let Ok(data) = field.bytes().await else {
            return artworks_page(&c, &staff.session.csrf, Some("the form did not arrive whole"), None);
        };
        let text = || String::from_utf8_lossy(&data).trim().chars().take(300).collect::<String>();
        match name.as_str() {
            "image" => image = Some(data.clone()),
            "title" => label.title = text(),
            "artist" => label.artist = text(),
            "year" => label.year = text(),
            "credit" => label.credit = text(),
            _ => {}
        }
    }
    let Some(image) = image.filter(|b| !b.is_empty()) else {
        return artworks_page(&c, &staff.session.csrf, Some("choose an image file"), None);
    };
    // Decoding takes time and memory: on the blocking pool, not the server's thread.
    let added = tokio::task::spawn_blocking(move || shelf.add(&image, label))
        .await
        .unwrap_or_else(|e| Err(format!("the upload failed ({e})")));
    match added {
        Ok(a) => {
            audit(peer, &staff.who(), &format!("artwork {} \"{}\" uploaded", a.id, a.info.label.title));
            Redirect::to("/artworks?done=uploaded").into_response()
        }
        Err(why) => artworks_page(&c, &staff.session.csrf, Some(&why), None),
    }
}

async fn artwork_file(State(c): State<Arc<Console>>, Path((id, file)): Path<(String, String)>) -> Response {
    let Some(shelf) = &c.shelf else {
        return text(StatusCode::NOT_FOUND, "uploads are off on this kiosk");
    };
    if !super::artworks::well_formed_id(&id) {
        return text(StatusCode::NOT_FOUND, "no such artwork");
    }
    let path = match file.as_str() {
        "image.png" => shelf.image_path(&id),
        "preview.png" => shelf.preview_path(&id),
        _ => return text(StatusCode::NOT_FOUND, "no such file"),
    };
    match std::fs::read(&path) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "image/png")], bytes).into_response(),
        Err(_) => text(StatusCode::NOT_FOUND, "no such file"),
    }
}

async fn artwork_action(
    State(c): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::Extension(staff): axum::Extension<Staff>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    use super::artworks::Preview;
    let Some(shelf) = c.shelf.clone() else {
        return text(StatusCode::NOT_FOUND, "uploads are off on this kiosk");
    };
    let Some(artwork) = shelf.get(&id) else {
        return text(StatusCode::NOT_FOUND, "no such artwork");
    };
    let path = shelf.scene_path(&id);
    let label = artwork.info.label.clone();
    match action.as_str() {
        "add-to-scene" => {
            if shelf.preview(&id) != Preview::Ready {
                return artworks_page(
                    &c,
                    &staff.session.csrf,
                    Some("look at its preview first: it is not painted yet"),
                    None,
                );
            }
            let r = change_scene(&c, peer, &staff, &format!("artwork {id} added to the scene"), |scene| {
                scene.entries.push(crate::scene::SceneEntry {
                    styles: vec![crate::scene::StyleRef { path, weight: 1.0 }],
                    title: label.title,
                    artist: label.artist,
                    year: label.year,
                    credit: label.credit,
                    translations: Default::default(),
                    duration_s: 120.0,
                    transition: Default::default(),
                    overrides: Default::default(),
                });
                Ok(())
            });
            if r.status() == StatusCode::SEE_OTHER { Redirect::to("/artworks?done=added").into_response() } else { r }
        }
        "delete" => {
            let in_scene = c
                .scenes
                .as_ref()
                .and_then(|d| d.scene().ok())
                .is_some_and(|s| !super::artworks::used_by(&s, &path).is_empty());
            if in_scene {
                // Out of the scene first (checked like any save: the last artwork stays).
                let r = change_scene(&c, peer, &staff, &format!("artwork {id} taken out of the scene"), |scene| {
                    scene.entries.retain(|e| !e.styles.iter().any(|s| s.path == path));
                    Ok(())
                });
                if r.status() != StatusCode::SEE_OTHER {
                    return r;
                }
            }
            match shelf.delete(&id) {
                Ok(()) => {
                    audit(peer, &staff.who(), &format!("artwork {id} \"{}\" deleted", artwork.info.label.title));
                    Redirect::to("/artworks?done=deleted").into_response()
                }
                Err(why) => artworks_page(&c, &staff.session.csrf, Some(&why), None),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "no such action"),
    }
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The console's routes. Merge with [`crate::service::http::health_routes`] on one server.
pub fn router(console: Arc<Console>) -> Router {
    let staff = Router::new()
        .route("/", get(|| async { Redirect::to("/now") }))
        .route("/now", get(now_page))
        .route("/now/status.json", get(now_status))
        .route("/now/screen.jpg", get(now_screen))
        .route("/now/{action}", post(now_action))
        .route("/artworks", get(artworks_get))
        .route("/artworks/upload", post(artwork_upload).layer(DefaultBodyLimit::max(super::artworks::UPLOAD_LIMIT)))
        .route("/artworks/{id}/{file}", get(artwork_file).post(artwork_action))
        .route("/scenes", get(scenes_get))
        .route("/scenes/entry/{index}", post(scene_entry))
        .route("/scenes/move", post(scene_move))
        .route("/scenes/rotation", post(scene_rotation))
        .route("/scenes/text", post(scene_text).layer(DefaultBodyLimit::max(SCENE_TEXT_LIMIT)))
        .route("/scenes/restore", post(scene_restore))
        .route("/statistics", get(statistics_page))
        .route("/statistics.csv", get(statistics_csv))
        .route("/logout", post(logout))
        .route_layer(from_fn_with_state(console.clone(), staff_only));
    let open = Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/static/console.css", get(|| async { static_file("text/css", include_str!("static/console.css")) }))
        .route(
            "/static/console.js",
            get(|| async { static_file("text/javascript", include_str!("static/console.js")) }),
        );
    open.merge(staff).with_state(console).layer(DefaultBodyLimit::max(FORM_LIMIT)).layer(map_response(security_headers))
}
