//! Files people look at and tools read: depth and normal maps as PNG images with a legend and
//! as `.npy` arrays, surfel point clouds as binary PLY, and turntable GIFs. Every file is
//! written atomically (a temporary file beside it, then a rename: the scene crate's
//! [`atomic_file`](pix2scene_scene::atomic_file)), so a failed or interrupted
//! write never leaves a half-written file.

mod legend;
mod maps;
mod npy;
mod ply;
mod turntable;

pub use maps::{encode_png, write_depth_png, write_image_png, write_normal_png, write_rgb_png};
pub use npy::write_npy;
pub use ply::{Surfels, write_ply};
pub use turntable::{TurntableFrame, turntable_frame_size, write_turntable_gif};

/// Writes a text file (JSON, HTML) atomically.
///
/// # Errors
/// [`crate::Error::Scene`] wrapping the I/O error, naming the file.
pub fn write_text(path: &std::path::Path, text: &str) -> crate::error::Result<()> {
    Ok(pix2scene_scene::atomic_file::write_atomic(
        path,
        text.as_bytes(),
    )?)
}
