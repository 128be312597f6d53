//! Files people look at and tools read: depth and normal maps as PNG images with a legend and
//! as `.npy` arrays, surfel point clouds as binary PLY, and turntable GIFs. Every file is
//! written atomically (a temporary file beside it, then a rename), so a failed or interrupted
//! write never leaves a half-written file.

mod atomic_file;
mod legend;
mod maps;
mod npy;
mod ply;
mod turntable;

pub use maps::{write_depth_png, write_normal_png};
pub use npy::write_npy;
pub use ply::{Surfels, write_ply};
pub use turntable::{TurntableFrame, turntable_frame_size, write_turntable_gif};
