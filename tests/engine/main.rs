//! The style engine on tiny images: the loss terms by hand and against finite differences,
//! the optimisers, the VGG weights, the painter, the Live mirror's terms, faces, and the GPU
//! levers on a CPU.

#[path = "../common/mod.rs"]
mod common;

mod engine_math;
mod engine_painting;
mod faces;
mod gpu_levers;
mod live_mirror;
mod loss_by_hand;
mod optim;
mod vgg_weights;
