//! Batches of scenes: in host memory as the data pipeline packs them ([`HostBatch`]), and on
//! the training device as the networks take them ([`DeviceBatch`]).

use burn::tensor::{Device, Tensor, TensorData};
use pix2scene_model::one_hot;
use pix2scene_render::SurfelRenderer;
use pix2scene_scene::{MAX_LIGHTS, Sample};

use crate::error::{Error, Result};

/// A batch of scenes in host memory, laid out as the networks take them.
///
/// # Shapes
/// - `image`: `[batch, 3, size, size]`, linear RGB in [0, 1]
/// - `depth`: `[batch, size, size]`, ray depth in scene units (0 where `mask` is 0)
/// - `mask`: `[batch, size, size]`, 1 where the pixel ray hit a surface, else 0
/// - `normal`: `[batch, size, size, 3]`, camera-frame ground-truth normals (for sample grids)
/// - `camera`: `[batch, 3]`, camera position, world frame
/// - `light_pos`, `light_color`: `[batch, MAX_LIGHTS, 3]`, lights in the camera frame, padded
///   with zero-colour lights
/// - `class`: `[batch]`, class label (0 when the scene has none)
/// - `scene`: `[batch]`, training-set identifiers (see [`SceneSource::train_samples`](crate::data::SceneSource::train_samples)), or
///   empty for batches that are not training batches (held-out scenes)
#[derive(Clone, Debug, PartialEq)]
pub struct HostBatch {
    /// Number of scenes.
    pub batch: usize,
    /// Image side in pixels.
    pub size: usize,
    /// Images, `[batch, 3, size, size]`.
    pub image: Vec<f32>,
    /// Ground-truth ray depth, `[batch, size, size]`.
    pub depth: Vec<f32>,
    /// Validity mask, `[batch, size, size]`.
    pub mask: Vec<f32>,
    /// Ground-truth normals, `[batch, size, size, 3]`.
    pub normal: Vec<f32>,
    /// Camera positions, `[batch, 3]`.
    pub camera: Vec<f32>,
    /// Camera-frame light positions, `[batch, MAX_LIGHTS, 3]`.
    pub light_pos: Vec<f32>,
    /// Light colours, `[batch, MAX_LIGHTS, 3]`.
    pub light_color: Vec<f32>,
    /// Class labels, `[batch]`.
    pub class: Vec<u32>,
    /// Training-set identifiers of the scenes, `[batch]` (empty outside training batches).
    pub scene: Vec<u64>,
}

impl HostBatch {
    /// Packs samples (all of side `size`) into a batch, without scene identifiers.
    ///
    /// # Errors
    /// [`Error::Data`] when a sample has another size.
    pub fn from_samples(samples: &[Sample], size: usize) -> Result<Self> {
        let b = samples.len();
        let n = size * size;
        let mut out = Self {
            batch: b,
            size,
            image: vec![0.0; b * 3 * n],
            depth: Vec::with_capacity(b * n),
            mask: Vec::with_capacity(b * n),
            normal: Vec::with_capacity(b * n * 3),
            camera: Vec::with_capacity(b * 3),
            light_pos: vec![0.0; b * MAX_LIGHTS * 3],
            light_color: vec![0.0; b * MAX_LIGHTS * 3],
            class: Vec::with_capacity(b),
            scene: Vec::new(),
        };
        for (i, s) in samples.iter().enumerate() {
            let f = &s.frame;
            if f.size_px != size {
                return Err(Error::Data(format!(
                    "scene has {}² pixels, the model expects {size}²",
                    f.size_px
                )));
            }
            // [S, S, 3] → [3, S, S]
            for p in 0..n {
                for c in 0..3 {
                    out.image[(i * 3 + c) * n + p] = f.image[p * 3 + c];
                }
            }
            out.depth.extend_from_slice(&f.depth);
            out.mask.extend(f.mask.iter().map(|&m| f32::from(m)));
            out.normal.extend_from_slice(&f.normal);
            out.camera.extend_from_slice(&s.camera.eye.to_array());
            for (l, light) in s.lights_cam.iter().take(MAX_LIGHTS).enumerate() {
                let at = (i * MAX_LIGHTS + l) * 3;
                out.light_pos[at..at + 3].copy_from_slice(&light.position.to_array());
                out.light_color[at..at + 3].copy_from_slice(&light.color.to_array());
            }
            out.class.push(s.class.unwrap_or(0));
        }
        Ok(out)
    }
}

/// A batch on the device.
#[derive(Clone, Debug)]
pub struct DeviceBatch {
    /// `[batch, 3, R, R]` images in [0, 1].
    pub image: Tensor<4>,
    /// `[batch, 3]` camera positions, world frame.
    pub camera: Tensor<2>,
    /// `[batch, MAX_LIGHTS, 3]` camera-frame light positions.
    pub light_pos: Tensor<3>,
    /// `[batch, MAX_LIGHTS, 3]` light colours.
    pub light_color: Tensor<3>,
    /// `[batch, num_classes]` one-hot class labels, for class-conditional models.
    pub class: Option<Tensor<2>>,
    /// `[batch]` training-set identifiers of the scenes ([`HostBatch::scene`]; may be empty).
    pub scene: Vec<u64>,
}

impl DeviceBatch {
    /// Uploads a host batch; `num_classes > 0` adds one-hot class labels.
    ///
    /// # Panics
    /// If a class label is not below `num_classes` (a run checks its scenes' labels against
    /// `model.num_classes` when it starts, see [`SceneSource::check_classes`]).
    ///
    /// [`SceneSource::check_classes`]: crate::data::SceneSource::check_classes
    pub fn from_host(b: &HostBatch, num_classes: usize, device: &Device) -> Self {
        let (n, s) = (b.batch, b.size);
        let class = (num_classes > 0).then(|| one_hot(&b.class, num_classes, device));
        Self {
            class,
            image: tensor(&b.image, [n, 3, s, s], device),
            camera: tensor(&b.camera, [n, 3], device),
            light_pos: tensor(&b.light_pos, [n, MAX_LIGHTS, 3], device),
            light_color: tensor(&b.light_color, [n, MAX_LIGHTS, 3], device),
            scene: b.scene.clone(),
        }
    }

    /// Number of scenes.
    pub fn batch(&self) -> usize {
        self.image.dims()[0]
    }

    /// Replaces the images, where the rays of host batch `b` (this batch's source) hit a
    /// surface, by `renderer`'s images of its true depth under its lights, clamped to [0, 1]
    /// (`data.surfel_images`); the images stay as they are elsewhere, without autodiff history.
    /// `device` is the one this batch lives on.
    pub fn with_surfel_images(
        mut self,
        b: &HostBatch,
        renderer: &SurfelRenderer,
        device: &Device,
    ) -> Self {
        let (n, s) = (b.batch, b.size);
        let mask: Tensor<3> = tensor(&b.mask, [n, s, s], device);
        // Masked pixels have depth 0; any positive depth keeps the renderer defined there.
        let depth = tensor(&b.depth, [n, s, s], device) - mask.clone() + 1.0;
        let rendered = renderer
            .render_image(depth, self.light_pos.clone(), self.light_color.clone())
            .clamp(0.0, 1.0);
        let hit: Tensor<4> = mask.unsqueeze_dim(1);
        self.image = (rendered * hit.clone() + self.image * (hit.neg() + 1.0)).detach();
        self
    }
}

/// Makes a float tensor of `shape` from host values.
pub fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// A float tensor's values in host memory, in row-major order.
pub fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("the networks and the renderer compute in f32")
}

#[cfg(test)]
mod tests {
    use pix2scene_scene::{Generator, GeneratorConfig, Preset};

    use super::*;

    #[test]
    fn batch_layout_is_channel_first() {
        let generator = Generator::new(GeneratorConfig::new(Preset::Boxes, 8, 0)).unwrap();
        let samples = [generator.sample(0), generator.sample(1)];
        let b = HostBatch::from_samples(&samples, 8).unwrap();
        // Pixel (row 2, col 5) of sample 1, green channel.
        let p = 2 * 8 + 5;
        assert_eq!(b.image[(3 + 1) * 64 + p], samples[1].frame.image[p * 3 + 1]);
        assert_eq!(b.camera[3..6], samples[1].camera.eye.to_array());
    }
}
