//! `GET /health` and `GET /metrics` over HTTP/1.1 (hyper on a one-thread tokio runtime, on a
//! thread of its own): 200 or 503 with the reason, and Prometheus text. Loopback only unless
//! explicitly allowed; at most [`MAX_CONNECTIONS`] at once, each closed after
//! [`CONNECTION_TIMEOUT`], so a slow or hostile client cannot pile up work. The app never
//! waits for it: it only reads the [`Health`] snapshot.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::health::Health;

pub const MAX_CONNECTIONS: usize = 8;
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks the configured address: loopback, unless `allow_remote`.
pub fn check_address(address: &str, allow_remote: bool) -> Result<SocketAddr, String> {
    let addr: SocketAddr = address
        .parse()
        .map_err(|e| format!("health address `{address}` is not IP:PORT ({e}); use e.g. \"127.0.0.1:9107\""))?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "health address {addr} is reachable from other machines; use 127.0.0.1, or set `allow_remote_health: true` if the network is trusted"
        ));
    }
    Ok(addr)
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}

fn answer(req: &Request<Incoming>, health: &Mutex<Health>) -> Response<Full<Bytes>> {
    let h = health.lock().expect("health lock").clone();
    let now = Instant::now();
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/health") => match h.verdict(now) {
            Ok(what) => respond(StatusCode::OK, "text/plain; charset=utf-8", format!("ok: {what}\n")),
            Err(why) => {
                respond(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", format!("unhealthy: {why}\n"))
            }
        },
        (&Method::GET | &Method::HEAD, "/metrics") => {
            respond(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", h.prometheus(now))
        }
        (_, "/health" | "/metrics") => {
            let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n".into());
            r.headers_mut().insert("allow", "GET, HEAD".parse().expect("a header value"));
            r
        }
        _ => respond(StatusCode::NOT_FOUND, "text/plain", "try /health or /metrics\n".into()),
    }
}

pub struct HealthServer {
    pub address: SocketAddr,
    _thread: std::thread::JoinHandle<()>,
}

/// Binds `addr` and serves until the process ends.
pub fn serve(addr: SocketAddr, health: Arc<Mutex<Health>>) -> std::io::Result<HealthServer> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let thread = std::thread::Builder::new().name("health-http".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                // Over the limit: close at once rather than queue.
                let Ok(permit) = slots.clone().try_acquire_owned() else { continue };
                let health = health.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let r = answer(&req, &health);
                        async move { Ok::<_, Infallible>(r) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(2))
                        .keep_alive(false)
                        .serve_connection(TokioIo::new(stream), service);
                    let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
                    drop(permit);
                });
            }
        });
    })?;
    tracing::info!("health and metrics on http://{address}/health and /metrics");
    Ok(HealthServer { address, _thread: thread })
}
