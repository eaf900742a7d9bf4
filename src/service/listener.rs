//! Serving HTTP/1.1 connections with limits, shared by the staff server (`/health`, `/metrics`,
//! the console) and the guest listener: at most `per_address` connections from one address
//! and `total` in all (over a limit, a connection is closed at once rather than queued), the
//! request head within `header_timeout`, and every connection closed after
//! `connection_timeout`. So idle or slow connections from one machine cannot lock out another.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_address: usize,
    pub total: usize,
    pub header_timeout: Duration,
    pub connection_timeout: Duration,
    /// Several requests on one connection (browsers); off for single-shot clients.
    pub keep_alive: bool,
}

/// Connections open per address.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in [`OpenConnections`], given back when dropped.
struct Slot {
    open: Arc<OpenConnections>,
    peer: IpAddr,
}

impl OpenConnections {
    fn take(self: &Arc<Self>, peer: IpAddr, limit: usize) -> Option<Slot> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(peer).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot { open: self.clone(), peer })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.peer);
            }
        }
    }
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
                    tracing::warn!("http: cannot accept a connection ({e}); {errors} times so far");
                }
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

/// Serves `listener` for ever within `limits`; `service_for(peer)` answers one connection.
/// A trusted proxy carries everybody's connections: it gets the total, not one address's share
/// (limiting each browser behind it is the proxy's part, e.g. nginx's `limit_conn`).
pub async fn serve<S, B>(
    listener: tokio::net::TcpListener,
    limits: Limits,
    proxies: &super::proxies::TrustedProxies,
    mut service_for: impl FnMut(SocketAddr) -> S,
) where
    S: hyper::service::HttpService<Incoming, ResBody = B> + Send + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.total));
    let open = Arc::new(OpenConnections::default());
    accept_loop(
        || listener.accept(),
        |(stream, peer): (tokio::net::TcpStream, SocketAddr)| {
            // Over a limit: close at once rather than queue.
            let share = if proxies.trusts(peer.ip()) { limits.total } else { limits.per_address };
            let Some(slot) = open.take(peer.ip(), share) else { return };
            let Ok(permit) = slots.clone().try_acquire_owned() else { return };
            let service = service_for(peer);
            tokio::spawn(async move {
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .keep_alive(limits.keep_alive)
                    .serve_connection(TokioIo::new(stream), service);
                let _ = tokio::time::timeout(limits.connection_timeout, conn).await;
                drop((permit, slot));
            });
        },
    )
    .await
}

/// A thread of its own with a one-thread tokio runtime, running `server` until the process ends.
pub fn spawn_thread<F>(
    name: &str,
    server: impl FnOnce() -> F + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: std::future::Future<Output = ()>,
{
    std::thread::Builder::new().name(name.into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        runtime.block_on(server());
    })
}

/// A bound listener, non-blocking, ready for tokio.
pub fn bind(addr: SocketAddr) -> std::io::Result<(std::net::TcpListener, SocketAddr)> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    Ok((listener, address))
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

    #[test]
    fn an_address_gets_its_own_share_of_connections() {
        let open = Arc::new(OpenConnections::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| open.take(a, 3).unwrap()).collect();
        assert!(open.take(a, 3).is_none(), "a fourth from the same address");
        assert!(open.take(b, 3).is_some(), "another address still gets in");
        drop(held);
        assert!(open.take(a, 3).is_some(), "slots come back when connections close");
    }
}
