//! The inputs of the fused kernel as plain slices, and the layout of its packed output.

use pix2scene_scene::{PointLight, ShadingConstants, glam::Vec3};

/// Channels of the packed output `[batch, PACKED_CHANNELS, height, width]` with
/// [`KernelOutputs::ImageAndGeometry`]: image RGB (0..3), surfel position xyz (3..6), unit normal
/// xyz (6..9). [`KernelOutputs::Image`] writes the first 3 only.
pub const PACKED_CHANNELS: usize = 9;
/// First packed channel of the image.
pub const IMAGE_CHANNEL: usize = 0;
/// First packed channel of the surfel positions.
pub const POINTS_CHANNEL: usize = 3;
/// First packed channel of the normals.
pub const NORMALS_CHANNEL: usize = 6;

/// Rows per parallel task of a batch of `batch` images of `size` rows on rayon's current pool.
///
/// Bands of whole rows keep each task's 3×3 stencil local; each band also computes the edges
/// and own gradients of a halo row above and below it, so longer bands do less extra work (at
/// 128² and one thread 64-row bands measured 3 % faster than 32-row ones). They are shortened,
/// down to 16 rows, while that leaves fewer than 4 tasks per thread.
pub(crate) fn band_rows(batch: usize, size: usize) -> usize {
    let per_task = (batch * size).div_ceil(4 * rayon::current_num_threads());
    per_task.clamp(16, 64)
}

/// What the fused kernel writes (and differentiates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelOutputs {
    /// The image alone, `[batch, 3, height, width]`: the training path, which neither stores
    /// nor pulls gradients through positions and normals.
    Image,
    /// Image, positions and normals packed, `[batch, PACKED_CHANNELS, height, width]`.
    ImageAndGeometry,
}

impl KernelOutputs {
    /// Channels of the output.
    pub fn channels(self) -> usize {
        match self {
            Self::Image => 3,
            Self::ImageAndGeometry => PACKED_CHANNELS,
        }
    }
}

/// Settings of one call of the fused kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelParams {
    /// Constants of paper Eq. 1.
    pub shading: ShadingConstants,
    /// What to write.
    pub outputs: KernelOutputs,
}

/// One batch of kernel inputs, borrowed from contiguous `f32` tensors.
pub(crate) struct KernelInputs<'a> {
    /// `[batch, size, size]`, depth along the pixel rays.
    pub depth: &'a [f32],
    /// Batch size.
    pub batch: usize,
    /// Image side, pixels.
    pub size: usize,
    /// `[3, size, size]` unit ray directions as planes of x, y and z, camera frame.
    pub dirs: &'a [f32],
    /// Lights of each sample, camera frame.
    pub lights: Vec<Vec<PointLight>>,
    /// Eq. 1 constants.
    pub shading: ShadingConstants,
    /// What to write.
    pub outputs: KernelOutputs,
}

impl<'a> KernelInputs<'a> {
    /// Gathers the inputs.
    ///
    /// # Shapes
    /// - `depth`: `[batch, size, size]`
    /// - `dirs`: `[3, size, size]`, the pixels' unit ray directions as planes
    /// - `light_pos`, `light_color`: `[batch, lights, 3]`
    ///
    /// # Panics
    /// If the slice lengths disagree with `batch`, `size` and the light count.
    pub fn new(
        depth: &'a [f32],
        dirs: &'a [f32],
        light_pos: &[f32],
        light_color: &[f32],
        [batch, size]: [usize; 2],
        params: &KernelParams,
    ) -> Self {
        assert_eq!(depth.len(), batch * size * size, "depth length");
        assert_eq!(dirs.len(), 3 * size * size, "ray directions length");
        assert_eq!(light_pos.len(), light_color.len(), "light tensors differ");
        assert_eq!(
            light_pos.len() % (3 * batch.max(1)),
            0,
            "light tensor length"
        );
        let per_sample = light_pos.len() / batch.max(1);
        let lights = (0..batch)
            .map(|b| {
                let pos = &light_pos[b * per_sample..(b + 1) * per_sample];
                let col = &light_color[b * per_sample..(b + 1) * per_sample];
                pos.chunks_exact(3)
                    .zip(col.chunks_exact(3))
                    .map(|(p, c)| PointLight {
                        position: Vec3::from_slice(p),
                        color: Vec3::from_slice(c),
                    })
                    .collect()
            })
            .collect();
        Self {
            depth,
            batch,
            size,
            dirs,
            lights,
            shading: params.shading,
            outputs: params.outputs,
        }
    }
}
