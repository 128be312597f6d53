//! A rendered view with its exact ground truth.

/// One ray-traced image and its per-pixel ground truth, all row-major (row 0 at the top).
///
/// # Shapes
/// - `image`: `[size_px, size_px, 3]` linear RGB in [0, 1] (clamped), background colour where
///   `mask` is 0
/// - `depth`: `[size_px, size_px]`, Euclidean distance from the camera centre to the hit point
///   along the pixel ray (not z), scene units; 0 where `mask` is 0
/// - `normal`: `[size_px, size_px, 3]`, unit surface normal in the **camera frame**, facing the
///   camera; 0 where `mask` is 0
/// - `mask`: `[size_px, size_px]`, 1 where the pixel ray hit a surface, else 0
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Image side in pixels.
    pub size_px: usize,
    /// Shaded image, `[size_px, size_px, 3]`.
    pub image: Vec<f32>,
    /// Ray depth, `[size_px, size_px]`.
    pub depth: Vec<f32>,
    /// Camera-frame normals, `[size_px, size_px, 3]`.
    pub normal: Vec<f32>,
    /// Hit mask, `[size_px, size_px]`.
    pub mask: Vec<u8>,
}

impl Frame {
    /// An all-background frame.
    pub fn empty(size_px: usize) -> Self {
        let n = size_px * size_px;
        Self {
            size_px,
            image: vec![0.0; n * 3],
            depth: vec![0.0; n],
            normal: vec![0.0; n * 3],
            mask: vec![0; n],
        }
    }
}
