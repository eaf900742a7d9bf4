//! The staff's HTTP server (axum on hyper, a one-thread tokio runtime on a thread of its own):
//! `GET /health` (200 or 503 with the reason) and `GET /metrics` (Prometheus text), and the
//! curator console when it is on. `/health` and `/metrics` answer loopback peers only unless
//! explicitly allowed. Connections are limited per address and in all, with time limits
//! ([`crate::service::listener`]), so idle or slow clients cannot lock staff out. The app never
//! waits for it: it only reads the [`Health`] snapshot.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;

use super::health::Health;
use super::listener::{self, Limits};
use super::proxies::{Client, TrustedProxies};
pub use crate::config::check_address;

fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn health(State(h): State<Arc<Mutex<Health>>>) -> Response {
    let h = h.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match h.verdict(Instant::now()) {
        Ok(what) => plain(StatusCode::OK, "text/plain; charset=utf-8", format!("ok: {what}\n")),
        Err(why) => plain(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", format!("unhealthy: {why}\n")),
    }
}

async fn metrics(State(h): State<Arc<Mutex<Health>>>) -> Response {
    let h = h.lock().unwrap_or_else(|e| e.into_inner()).clone();
    plain(StatusCode::OK, "application/openmetrics-text; version=1.0.0; charset=utf-8", h.prometheus(Instant::now()))
}

/// `/health` and `/metrics`: loopback peers only, unless `allow_remote`. A request through a
/// trusted proxy is never loopback (the proxy may serve the whole LAN).
pub fn health_routes(board: Arc<Mutex<Health>>, allow_remote: bool) -> Router {
    let loopback_rule = move |ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request, next: Next| async move {
        let proxied = req.extensions().get::<Client>().is_some_and(|c| c.proxied);
        if !allow_remote && (proxied || !peer.ip().is_loopback()) {
            return plain(
                StatusCode::FORBIDDEN,
                "text/plain; charset=utf-8",
                "/health and /metrics answer this machine only (service.allow_remote_health)\n".into(),
            );
        }
        next.run(req).await
    };
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(board)
        .route_layer(axum::middleware::from_fn(loopback_rule))
}

pub struct HealthServer {
    pub address: SocketAddr,
    _thread: std::thread::JoinHandle<()>,
}

/// Limits of the staff server: a browser opens up to 6 connections at once; 50 idle ones from
/// one address leave everybody else answered.
pub const LIMITS: Limits = Limits {
    per_address: 12,
    total: 64,
    header_timeout: Duration::from_secs(5),
    connection_timeout: Duration::from_secs(120),
    keep_alive: true,
};

/// Binds `addr` and serves `router` until the process ends.
pub fn serve(addr: SocketAddr, router: Router, proxies: TrustedProxies) -> std::io::Result<HealthServer> {
    let (listener, address) = listener::bind(addr)?;
    let thread = listener::spawn_thread("staff-http", move || async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        listener::serve(listener, LIMITS, &proxies.clone(), |peer| {
            let (router, proxies) = (router.clone(), proxies.clone());
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                // Handlers and layers read the sender's address as axum's ConnectInfo (the
                // visitor's behind a trusted proxy: lockouts and the audit log name them).
                let client = proxies.client(peer.ip(), req.headers());
                req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client.ip, peer.port())));
                req.extensions_mut().insert(client);
                router.clone().oneshot(req)
            })
        })
        .await
    })?;
    Ok(HealthServer { address, _thread: thread })
}
