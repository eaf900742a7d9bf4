//! The systemd notify protocol: READY=1 once the first frame is on screen, then WATCHDOG=1
//! pings, but only while both the render loop and the worker make progress, so a hung GPU
//! call or a frozen display stops them and systemd restarts the service. Without
//! `NOTIFY_SOCKET` (not started by systemd) it does nothing.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use super::health::Health;

pub struct Watchdog {
    /// WatchdogSec; None: no watchdog asked for.
    period: Option<Duration>,
    last_ping: Option<Instant>,
    ready_sent: bool,
    enabled: bool,
}

impl Watchdog {
    /// Reads NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets them.
    pub fn from_env() -> Watchdog {
        Watchdog {
            period: sd_notify::watchdog_enabled(),
            last_ping: None,
            ready_sent: false,
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Called once per rendered frame.
    pub fn tick(&mut self, health: &Health, now: Instant) {
        if !self.enabled {
            return;
        }
        if !self.ready_sent {
            self.ready_sent = true;
            let status = format!("STATUS={}", health.verdict(now).unwrap_or_else(|e| e));
            if let Err(e) = sd_notify::notify(&[NotifyState::Ready, NotifyState::Custom(&status)]) {
                tracing::warn!("systemd notify failed: {e}");
            }
            tracing::info!("told systemd the installation is ready");
        }
        let Some(period) = self.period else { return };
        // Ping three times a period, so one late frame does not cost a restart.
        if self.last_ping.is_some_and(|t| now.duration_since(t) < period / 3) {
            return;
        }
        // The render loop is alive (this runs in it); the worker must have come round its
        // loop within half a period, or systemd should restart us.
        if health.worker_heartbeat.is_none_or(|t| now.duration_since(t) >= period / 2) {
            return;
        }
        self.last_ping = Some(now);
        let _ = sd_notify::notify(&[NotifyState::Watchdog]);
    }
}
