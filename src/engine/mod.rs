//! The style engine: Gatys et al. (2015) neural style transfer on tch. Knows nothing of Bevy;
//! the CLI, the benchmark and the live worker all drive it through [`Refiner`].

pub mod cuda;
pub mod device;
mod error;
pub mod faces;
pub mod graphed;
pub mod imageio;
mod invalid;
pub mod live;
pub mod loss;
pub mod objective;
pub mod optim;
pub mod params;
pub mod refiner;
pub mod targets;
pub mod vgg;

pub use device::{DevicePreference, EngineDevice, GpuOptions, Precision};
pub use error::{EngineError, catch_torch};
pub use faces::{FaceBox, FaceWeights};
pub use invalid::Invalid;
pub use live::LiveSettings;
pub use params::{InitKind, LayerWeight, StyleImage, StyleParams};
pub use refiner::{Follow, LossParts, Progress, Refiner};
pub use vgg::{Arch, Pooling, Vgg};
