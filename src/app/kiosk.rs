//! Exhibition behaviour: close requests are ignored, the admin key chord quits, and SIGTERM
//! (`systemctl stop`) stops the kiosk as cleanly as the chord does (a visitor's take-home
//! painting is deleted on the way out).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::input::ButtonState;
use bevy::input::keyboard::KeyboardInput;
use bevy::platform::collections::HashSet;
use bevy::prelude::*;
use bevy::window::WindowCloseRequested;

use super::AppSystems;

#[derive(Resource, Clone, Debug)]
pub struct KioskSettings {
    pub exit_chord: Vec<KeyCode>,
    pub hud_key: KeyCode,
    pub ignore_close_requests: bool,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, (admin_exit_chord, window_close_requests, stop_on_signal).in_set(AppSystems::Input));
}

/// Set when SIGTERM has come.
#[derive(Resource, Clone, Default)]
pub struct StopSignal(pub Arc<AtomicBool>);

impl StopSignal {
    /// Listens for SIGTERM on a thread of its own (installed by `run` only: a test's process
    /// keeps its own handling).
    pub fn listen() -> std::io::Result<StopSignal> {
        let signal = StopSignal::default();
        let flag = signal.0.clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let mut term = {
            let _inside = runtime.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?
        };
        std::thread::Builder::new().name("sigterm".into()).spawn(move || {
            runtime.block_on(term.recv());
            tracing::info!("SIGTERM: stopping");
            flag.store(true, Ordering::Relaxed);
        })?;
        Ok(signal)
    }
}

fn stop_on_signal(signal: Option<Res<StopSignal>>, mut exit: MessageWriter<AppExit>, mut said: Local<bool>) {
    if !*said && signal.is_some_and(|s| s.0.load(Ordering::Relaxed)) {
        *said = true;
        exit.write(AppExit::Success);
    }
}

/// Follows key presses in order rather than polling `ButtonInput`: a chord typed within
/// one frame (remote tools, fast fingers) still counts.
fn admin_exit_chord(
    mut keys: MessageReader<KeyboardInput>,
    mut held: Local<HashSet<KeyCode>>,
    settings: Res<KioskSettings>,
    mut exit: MessageWriter<AppExit>,
) {
    let chord = &settings.exit_chord;
    for key in keys.read() {
        match key.state {
            ButtonState::Pressed => {
                held.insert(key.key_code);
                if !chord.is_empty() && chord.iter().all(|k| held.contains(k)) {
                    tracing::info!("admin chord pressed: quitting");
                    exit.write(AppExit::Success);
                    held.clear();
                }
            }
            ButtonState::Released => {
                held.remove(&key.key_code);
            }
        }
    }
}

fn window_close_requests(
    mut requests: MessageReader<WindowCloseRequested>,
    settings: Res<KioskSettings>,
    mut exit: MessageWriter<AppExit>,
) {
    for _ in requests.read() {
        if settings.ignore_close_requests {
            tracing::info!("window close request ignored (exhibition mode); quit with the admin key chord");
        } else {
            exit.write(AppExit::Success);
        }
    }
}
