//! Pixel → ray: the camera-frame unit direction through each pixel centre.

use burn::tensor::{Device, Tensor, TensorData};

/// Unit ray directions through the pixel centres of a `size_px`² image, as a tensor.
///
/// Values are those of [`pix2scene_scene::pixel_directions`] (identical to `bench/torch_reference.py`
/// `ray_directions`), so every renderer and the ray tracer agree pixel for pixel.
///
/// # Shapes
/// - returns `[size_px, size_px, 3]`: `[row, col, xyz]`, row 0 at the top of the image
///
/// # Units and frames
/// Camera frame (+x right, +y up, looking along −z); unit length.
pub fn ray_directions(fov_y_deg: f32, size_px: usize, device: &Device) -> Tensor<3> {
    let flat: Vec<f32> = pix2scene_scene::pixel_directions(fov_y_deg, size_px)
        .into_iter()
        .flat_map(|d| d.to_array())
        .collect();
    Tensor::from_data(TensorData::new(flat, [size_px, size_px, 3]), device)
}

/// [`ray_directions`] as three planes, the layout of the fused kernel: its loops read one
/// coordinate of consecutive pixels at once.
///
/// # Shapes
/// - returns `[3, size_px, size_px]`: `[xyz, row, col]`
pub fn ray_direction_planes(fov_y_deg: f32, size_px: usize, device: &Device) -> Tensor<3> {
    let flat = direction_planes(fov_y_deg, size_px);
    Tensor::from_data(TensorData::new(flat, [3, size_px, size_px]), device)
}

/// [`ray_direction_planes`] in host memory.
///
/// # Shapes
/// - returns `[3, size_px, size_px]`: `[xyz, row, col]`, flattened
pub fn direction_planes(fov_y_deg: f32, size_px: usize) -> Vec<f32> {
    let dirs = pix2scene_scene::pixel_directions(fov_y_deg, size_px);
    (0..3)
        .flat_map(|axis| dirs.iter().map(move |d| d[axis]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_pixels_look_down_minus_z_and_rays_are_unit() {
        let d = ray_directions(26.0, 4, &Device::flex());
        let v = d.clone().into_data().try_to_vec::<f32>().unwrap();
        for px in v.chunks(3) {
            let len = (px[0] * px[0] + px[1] * px[1] + px[2] * px[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-6);
            assert!(px[2] < -0.9);
        }
        // Pixel (0, 0) is top-left: x < 0, y > 0; the image is symmetric about its centre.
        assert!(v[0] < 0.0 && v[1] > 0.0);
        let last = &v[v.len() - 3..];
        assert!((last[0] + v[0]).abs() < 1e-7 && (last[1] + v[1]).abs() < 1e-7);
    }

    #[test]
    fn planes_hold_the_same_directions() {
        let device = Device::flex();
        let dirs = ray_directions(30.0, 5, &device);
        let planes = ray_direction_planes(30.0, 5, &device);
        assert_eq!(
            planes
                .permute([1, 2, 0])
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            dirs.into_data().try_to_vec::<f32>().unwrap()
        );
    }
}
