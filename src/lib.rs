//! gallery-painter: an interactive art installation that repaints a camera frame in the
//! style of an artwork by Gatys-style optimisation and shows the painting as it evolves.
//!
//! - [`engine`]: the style engine (VGG, losses, optimisers, progressive refinement); no Bevy.
//! - [`capture`]: frame sources (camera, still, slideshow, synthetic) on their own thread.
//! - [`painting`]: the seam between a kiosk and whoever paints for it (its *worker*), and the
//!   paint loop both painting sides run around the engine's [`engine::Refiner`].
//! - [`worker`]: the local worker, the kiosk's own thread with the engine; [`farm`]: the farm,
//!   its painter processes and the remote worker that hands them jobs; [`workers`]: the choice.
//! - [`config`] and [`scene`]: RON files with documented defaults and precise errors.
//! - [`app`]: the Bevy gallery display, one plugin per concern.

#[cfg(feature = "gui")]
pub mod app;
pub mod artworks;
pub mod capture;
pub mod cli;
pub mod config;
pub mod console;
pub mod engine;
pub mod farm;
pub mod i18n;
pub mod ids;
pub mod painting;
pub mod paths;
pub mod scene;
pub mod service;
pub mod share;
pub mod voice;
pub mod worker;
pub mod workers;
