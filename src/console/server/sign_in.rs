//! Signing in and out, and the layer every staff route sits behind: a session cookie and, on
//! every request that changes something, the session's CSRF token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Console, FORM_LIMIT, LOGIN_COOKIE, SCENE_TEXT_LIMIT, SESSION_COOKIE, StaffRequest, audit, cookie, text};
use crate::console::auth::{self, Check, Session};
use crate::console::pages;

/// The signed-in staff member of a request (put there by [`staff_only`]).
#[derive(Clone)]
pub(super) struct Staff {
    pub(super) token: String,
    pub(super) session: Session,
}

impl Staff {
    pub(super) fn who(&self) -> String {
        format!("staff session #{}", self.session.number)
    }
}

/// Refuses a request without a valid session (a page: to the sign-in; anything else: 401) and
/// a request that changes something without the session's CSRF token (403).
pub(super) async fn staff_only(State(c): State<Arc<Console>>, mut req: Request, next: Next) -> Response {
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
            "/artworks/upload" => crate::console::artworks::UPLOAD_LIMIT,
            _ => FORM_LIMIT,
        };
        if declared.is_some_and(|n| n > limit) {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "the request is larger than the console accepts");
        }
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "the request is larger than the console accepts");
        };
        let from_header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("multipart/form-data"));
        let sent = match from_header {
            Some(token) => Some(token),
            // An upload sent without script: the token is a field of the form's body.
            None if multipart => multipart_field(&parts.headers, bytes.clone(), "csrf").await,
            None => form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned()),
        };
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

/// The text of the multipart form field `name` in an already buffered body (the form puts the
/// token before the image, so the image is not read for it).
async fn multipart_field(headers: &HeaderMap, body: axum::body::Bytes, name: &str) -> Option<String> {
    use axum::extract::FromRequest;
    let mut request = Request::new(Body::from(body));
    *request.headers_mut() = headers.clone();
    let mut form = axum::extract::Multipart::from_request(request, &()).await.ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// Headers on every console answer: nothing from elsewhere, never framed, never cached.
pub(super) async fn security_headers(mut r: Response) -> Response {
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

pub(super) async fn login_page(State(c): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let signed_in = cookie(&headers, SESSION_COOKIE)
        .is_some_and(|t| c.sessions.lock().unwrap_or_else(|e| e.into_inner()).touch(t, Instant::now()).is_some());
    if signed_in {
        return Redirect::to("/now").into_response();
    }
    let token = cookie(&headers, LOGIN_COOKIE).filter(|t| crate::share::well_formed(t)).map(str::to_owned);
    let token = token.unwrap_or_else(crate::ids::new_token);
    ([(header::SET_COOKIE, c.cookie(LOGIN_COOKIE, &token, None))], pages::login(&token, None)).into_response()
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn login_submit(
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
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same(expected, &form.csrf) {
        audit(peer, "somebody", "sign-in refused (no valid form token)");
        return text(StatusCode::FORBIDDEN, "this sign-in form is out of date: open /login again");
    }
    // The try is counted before the password is checked (a right one clears the count).
    let taken = c.limiter.lock().unwrap_or_else(|e| e.into_inner()).take_try(peer.ip(), Instant::now());
    if let Err(wait) = taken {
        audit(peer, "somebody", "sign-in refused (too many wrong passwords)");
        return retry_page(wait);
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
            let wait = c.limiter.lock().unwrap_or_else(|e| e.into_inner()).wait(peer.ip(), Instant::now());
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

pub(super) async fn logout(StaffRequest { c, staff, peer }: StaffRequest) -> Response {
    c.sessions.lock().unwrap_or_else(|e| e.into_inner()).end(&staff.token);
    audit(peer, &staff.who(), "signed out");
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, c.cookie(SESSION_COOKIE, "", Some(0)));
    r
}
