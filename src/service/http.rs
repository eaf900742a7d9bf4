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

/// After a failed accept (out of file descriptors, most often), wait this long: the error
/// repeats at once otherwise, and the loop would spin a core.
pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Accepts connections for ever, handing each to `handle`; errors are logged (the first and
/// then every power of two) and followed by [`ACCEPT_ERROR_PAUSE`].
pub async fn accept_loop<S, F>(mut accept: impl FnMut() -> F, mut handle: impl FnMut(S))
where
    F: std::future::Future<Output = std::io::Result<S>>,
{
    let mut errors = 0u64;
    loop {
        match accept().await {
            Ok(connection) => handle(connection),
            Err(e) => {
                errors += 1;
                if errors.is_power_of_two() {
                    tracing::warn!("health endpoint: cannot accept a connection ({e}); {errors} times so far");
                }
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
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
            accept_loop(
                || listener.accept(),
                |(stream, _)| {
                    // Over the limit: close at once rather than queue.
                    let Ok(permit) = slots.clone().try_acquire_owned() else { return };
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
                },
            )
            .await
        });
    })?;
    tracing::info!("health and metrics on http://{address}/health and /metrics");
    Ok(HealthServer { address, _thread: thread })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accept_error_pauses_the_loop_instead_of_spinning() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let attempts = std::cell::Cell::new(0u32);
        let handled = std::cell::Cell::new(0u32);
        runtime.block_on(async {
            // Every accept fails, as with no file descriptors left.
            let accept = || {
                attempts.set(attempts.get() + 1);
                async { Err::<(), _>(std::io::Error::from_raw_os_error(24)) }
            };
            let run = accept_loop(accept, |()| handled.set(handled.get() + 1));
            let _ = tokio::time::timeout(Duration::from_millis(450), run).await;
        });
        // 450 ms at one attempt per 100 ms pause: 5; a spinning loop makes millions.
        assert!((3..=6).contains(&attempts.get()), "{} attempts", attempts.get());
        assert_eq!(handled.get(), 0);
    }
}
