//! `service: (..)`: running unattended, the health endpoint.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// `GET /health` and `GET /metrics` on this address, e.g. "127.0.0.1:9107" (None: off).
    pub health_address: Option<String>,
    /// Allow an address other machines can reach (off: loopback only).
    pub allow_remote_health: bool,
}
