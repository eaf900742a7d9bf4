//! How kiosks and painters reach the NATS server: the address, the role's user, and the
//! private CA that turns TLS on (see scripts/farm-certs.sh).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{RemoteConfig, server_urls};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FarmConnection {
    /// `nats://host:4222`, or `tls://host:4222` with `ca`; several servers separated by commas.
    pub url: String,
    /// This kiosk's (or painter's) user in the server's `authorization { users [...] }`.
    pub user: Option<String>,
    /// A file holding the user's password (mode 0600), never the password itself.
    pub password_file: Option<PathBuf>,
    /// The farm's private CA certificate (PEM): the server must present a certificate it signed.
    pub ca: Option<PathBuf>,
}

impl From<&RemoteConfig> for FarmConnection {
    /// A kiosk's login, from its `engine.remote`.
    fn from(r: &RemoteConfig) -> FarmConnection {
        FarmConnection {
            url: r.url.clone(),
            user: r.user.clone(),
            password_file: r.password_file.clone(),
            ca: r.ca.clone(),
        }
    }
}

impl Default for FarmConnection {
    fn default() -> Self {
        FarmConnection { url: "nats://127.0.0.1:4222".into(), user: None, password_file: None, ca: None }
    }
}

impl FarmConnection {
    /// Connects in the background: the client keeps trying (every second at most) for as long
    /// as it lives, so a server that is down now is used when it comes back.
    /// `name`: the kiosk's or painter's name; replies to its requests go to an inbox of its own.
    pub async fn connect(&self, role: &str, name: &str) -> anyhow::Result<async_nats::Client> {
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("{role} {name}"))
            // The server lets each user read its own inbox only (see scripts/farm-certs.sh).
            .custom_inbox_prefix(super::protocol::inbox_prefix(self.user.as_deref().unwrap_or(name)))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(3))
            .request_timeout(Some(Duration::from_secs(5)))
            .ping_interval(Duration::from_secs(5))
            .reconnect_delay_callback(|attempts| Duration::from_millis((250 * attempts as u64).min(1000)));
        if let Some(user) = &self.user {
            let file = self.password_file.as_ref().ok_or_else(|| {
                anyhow::anyhow!("farm user `{user}` has no password_file\n  fix: add password_file: \"/etc/gallery-painter/farm-password\"")
            })?;
            let password = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read the farm password file {}: {e}", file.display()))?;
            options = options.user_and_password(user.clone(), password.trim().to_string());
        }
        if let Some(ca) = &self.ca {
            anyhow::ensure!(
                ca.is_file(),
                "the farm's CA certificate {} is missing\n  fix: make one with scripts/farm-certs.sh, or remove `ca`",
                ca.display()
            );
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        let urls = server_urls(&self.url);
        anyhow::ensure!(!urls.is_empty(), "no farm server address given\n  fix: e.g. nats://10.0.0.5:4222");
        options.connect(urls.as_slice()).await.map_err(|e| anyhow::anyhow!("cannot use the farm at {}: {e}", self.url))
    }
}

/// The largest message the server takes (1 MiB until the client has heard from it).
pub fn max_payload(client: &async_nats::Client) -> usize {
    match client.server_info().max_payload {
        0 => 1 << 20,
        n => n,
    }
}
