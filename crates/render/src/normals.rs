//! Surfel normals by the 8-neighbour constrained plane fit (paper Eq. 3), as tensor operations.
//!
//! This is the reference implementation, differentiated by burn's autodiff; the fused CPU kernel
//! ([`crate::kernel`]) computes the same function pixel by pixel.

use burn::tensor::{Tensor, ops::PadMode};

/// Added to each neighbour difference's length before normalizing it (as `bench/torch_reference.py`).
pub const NEIGHBOR_NORM_EPS: f32 = 1e-10;
/// Added to the determinant of the 2×2 normal equations (as `bench/torch_reference.py`).
pub const DET_EPS: f32 = 1e-12;

/// Offsets `(dy, dx)` of the 8 neighbours, in the order the sums run (row-major, centre skipped).
pub const NEIGHBOR_OFFSETS: [(isize, isize); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// Unit normals of the surfels, facing the camera, from each surfel's 8 neighbours.
///
/// Paper Eq. 3, as the authors compute it and exactly as `bench/torch_reference.py`
/// `plane_fit_normals`: the 8 differences `d_k = p_k − p` to the neighbours (reflect padding
/// at the image border: the missing neighbour across an edge is the mirror image of the one
/// inside) are normalized, `m_k = d_k / (‖d_k‖ + 1e-10)`; the normal `(n_x, n_y, 1)` is the
/// least-squares solution of `m_kᵀ n = 0` with `n_z` fixed to 1 (2×2 normal equations,
/// determinant + 1e-12), then normalized. Fixing `n_z = 1` makes every normal face the camera
/// (`n_z > 0`, the camera looks along −z).
///
/// # Shapes
/// - `points`: `[batch, height, width, 3]`, surfel centres; `height, width ≥ 2`
/// - returns `[batch, height, width, 3]`, unit normals
///
/// # Units and frames
/// Camera frame.
///
/// # Panics
/// If `height` or `width` is below 2 (reflect padding needs two pixels).
pub fn plane_fit_normals(points: Tensor<4>) -> Tensor<4> {
    let [batch, height, width, _] = points.dims();
    let padded = points
        .clone()
        .pad([(0, 0), (1, 1), (1, 1), (0, 0)], PadMode::Reflect);
    let mut sums: Option<[Tensor<4>; 5]> = None;
    for (dy, dx) in NEIGHBOR_OFFSETS {
        let r0 = (1 + dy) as usize;
        let c0 = (1 + dx) as usize;
        let d = padded
            .clone()
            .slice([0..batch, r0..r0 + height, c0..c0 + width, 0..3])
            - points.clone();
        let len = d.clone().square().sum_dim(3).sqrt();
        let m = d / len.add_scalar(NEIGHBOR_NORM_EPS);
        let mx = m.clone().narrow(3, 0, 1);
        let my = m.clone().narrow(3, 1, 1);
        let mz = m.narrow(3, 2, 1);
        let terms = [
            mx.clone() * mx.clone(),
            mx.clone() * my.clone(),
            my.clone() * my.clone(),
            mx * mz.clone(),
            my * mz,
        ];
        sums = Some(match sums {
            None => terms,
            Some(acc) => {
                let mut it = terms.into_iter();
                acc.map(|s| s + it.next().expect("five terms"))
            }
        });
    }
    let [a, b, c, sxz, syz] = sums.expect("eight neighbours");
    // r = −Σ m_{x,y} m_z
    let (rx, ry) = (sxz.neg(), syz.neg());
    let det = (a.clone() * c.clone() - b.clone() * b.clone()).add_scalar(DET_EPS);
    let nx = (c * rx.clone() - b.clone() * ry.clone()) / det.clone();
    let ny = (a * ry - b * rx) / det;
    let nz = nx.ones_like();
    let n = Tensor::cat(vec![nx, ny, nz], 3);
    let len = n.clone().square().sum_dim(3).sqrt();
    n / len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{rays::ray_directions, surfels::back_project};
    use burn::tensor::{Device, TensorData};

    /// Depth of the plane `nᵀp = c` along each pixel ray.
    fn plane_depth(size: usize, n: [f32; 3], c: f32) -> Vec<f32> {
        pix2scene_scene::pixel_directions(26.0, size)
            .into_iter()
            .map(|d| c / (n[0] * d.x + n[1] * d.y + n[2] * d.z))
            .collect()
    }

    #[test]
    fn normals_of_a_tilted_plane_are_its_normal_everywhere() {
        let device = Device::flex();
        let size = 8;
        let len = (0.3f32 * 0.3 + 0.2 * 0.2 + 1.0).sqrt();
        let n = [0.3 / len, -0.2 / len, 1.0 / len];
        let depth = plane_depth(size, n, -0.9);
        let depth = Tensor::<3>::from_data(TensorData::new(depth, [1, size, size]), &device);
        let p = back_project(depth, ray_directions(26.0, size, &device));
        let got = plane_fit_normals(p)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for px in got.chunks(3) {
            for k in 0..3 {
                assert!((px[k] - n[k]).abs() < 1e-5, "{px:?} vs {n:?}");
            }
        }
    }
}
