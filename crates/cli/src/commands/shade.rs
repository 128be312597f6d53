//! `pix2scene shade`: render depth maps with the surfel renderer.

use std::path::PathBuf;

use clap::Args;
use pix2scene_render::ShadeJob;

/// Flags of `pix2scene shade`.
#[derive(Debug, Args)]
pub struct ShadeArgs {
    /// Depth maps: float32 `.npy`, `[H, W]` or `[B, H, W]`, square, distances along the rays.
    #[arg(long, value_name = "FILE")]
    depth: PathBuf,
    /// Shading parameters (JSON: fovy_deg, albedo, ambient, kl, kq, lights: [{pos_cam, color}]);
    /// missing keys take the defaults (fov 26°, albedo 0.6, ambient 0.1, kl = kq = 0.5, three
    /// lights).
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// Output: `.npy` (`[B, H, W, 3]` float32, unclamped) or `.png` (batch side by side).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs `pix2scene shade`.
pub fn run(a: ShadeArgs) -> anyhow::Result<()> {
    let job = ShadeJob {
        depth: a.depth,
        params: a.params,
        out: a.out,
    };
    let shape = job.run()?;
    eprintln!("wrote {} ({shape:?})", job.out.display());
    Ok(())
}
