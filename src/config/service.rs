//! `service: (..)`: running unattended, the health endpoint.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// `GET /health` and `GET /metrics` on this address, e.g. "127.0.0.1:9107" (None: off).
    pub health_address: Option<String>,
    /// Allow an address other machines can reach (off: loopback only).
    pub allow_remote_health: bool,
    /// Reverse proxies in front of the console and the guest listener (e.g. ["127.0.0.1"] for
    /// a proxy on this machine): their `X-Forwarded-For` names the sender, so limits and
    /// lockouts count each browser, and a request through them is never "this machine".
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

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
