//! `service: (..)`: running unattended, the health endpoint.

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
