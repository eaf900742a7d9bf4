//! Running unattended: the health report and its HTTP endpoint, the systemd watchdog, and
//! injected faults for rehearsals. Knows nothing of Bevy; `app::service` feeds it.

pub mod faults;
pub mod health;
pub mod http;
pub mod listener;
pub mod proxies;
pub mod state;
pub mod status;
pub mod watchdog;
