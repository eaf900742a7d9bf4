//! The kiosk without a window: the app's logic and the visitor journey in headless Bevy apps,
//! visitor texts, config and scene files, the CLI, the setup script, and the house itself
//! (the docs' links, no import circle, no room over 600 lines).

#[path = "../common/mod.rs"]
mod common;

mod app_logic;
mod cli;
mod config_scene;
mod docs;
mod house;
mod i18n;
mod journey;
mod setup_script;
mod voice;
