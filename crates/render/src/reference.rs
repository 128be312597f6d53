//! A plain-Rust `f64` evaluation of the renderer, the yardstick of the gradient checks.
//!
//! It restates paper Eqs. 1 and 3 in double precision, independent of burn and of the fused
//! kernel, so that central finite differences of it are accurate enough to check both
//! implementations' backward passes.

use pix2scene_scene::ShadingConstants;

use crate::normals::NEIGHBOR_OFFSETS;

/// A point light in `f64`: position and colour, camera frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LightF64 {
    /// Position, camera frame, scene units.
    pub position: [f64; 3],
    /// Linear RGB colour.
    pub color: [f64; 3],
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The Eq. 3 normal from 8 neighbour differences (see [`crate::normals::plane_fit_normals`]).
pub fn plane_fit_f64(d: &[[f64; 3]; 8]) -> [f64; 3] {
    let (mut a, mut b, mut c, mut rx, mut ry) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for dk in d {
        let len = dot(*dk, *dk).sqrt() + 1e-10;
        let m = [dk[0] / len, dk[1] / len, dk[2] / len];
        a += m[0] * m[0];
        b += m[0] * m[1];
        c += m[1] * m[1];
        rx -= m[0] * m[2];
        ry -= m[1] * m[2];
    }
    let det = a * c - b * b + 1e-12;
    let nx = (c * rx - b * ry) / det;
    let ny = (a * ry - b * rx) / det;
    let len = (nx * nx + ny * ny + 1.0).sqrt();
    [nx / len, ny / len, 1.0 / len]
}

/// Eq. 1 radiance at `p` with normal `n`.
pub fn radiance_f64(
    p: [f64; 3],
    n: [f64; 3],
    lights: &[LightF64],
    k: &ShadingConstants,
) -> [f64; 3] {
    let mut sum = k.ambient.to_array().map(f64::from);
    for l in lights {
        let d = sub(l.position, p);
        let dist = dot(d, d).sqrt();
        let cos = (dot(n, d) / dist).max(0.0);
        let att = 1.0 / (k.k_l as f64 * dist + k.k_q as f64 * dist * dist);
        for (s, c) in sum.iter_mut().zip(l.color) {
            *s += c * cos * att;
        }
    }
    let albedo = k.albedo.to_array();
    [0, 1, 2].map(|ch| albedo[ch] as f64 * sum[ch])
}

/// Renders one `size`² depth map (row-major) in `f64`.
///
/// # Shapes
/// - `depth`: `[size, size]`; returns `[3, size, size]` (channel-first like
///   [`crate::RenderOutput::image`])
pub fn render_f64(
    depth: &[f64],
    size: usize,
    fov_y_deg: f64,
    lights: &[LightF64],
    k: &ShadingConstants,
) -> Vec<f64> {
    assert_eq!(depth.len(), size * size);
    let t = (fov_y_deg.to_radians() / 2.0).tan();
    let point = |r: usize, c: usize| {
        let x = ((c as f64 + 0.5) / size as f64 * 2.0 - 1.0) * t;
        let y = (1.0 - (r as f64 + 0.5) / size as f64 * 2.0) * t;
        let len = (x * x + y * y + 1.0).sqrt();
        let dd = depth[r * size + c];
        [dd * x / len, dd * y / len, -dd / len]
    };
    let reflect = |i: usize, delta: isize| {
        let j = i as isize + delta;
        if j < 0 {
            1
        } else if j as usize >= size {
            size - 2
        } else {
            j as usize
        }
    };
    let mut out = vec![0.0; 3 * size * size];
    for r in 0..size {
        for c in 0..size {
            let p = point(r, c);
            let d: [[f64; 3]; 8] = std::array::from_fn(|k| {
                let (dy, dx) = NEIGHBOR_OFFSETS[k];
                sub(point(reflect(r, dy), reflect(c, dx)), p)
            });
            let rgb = radiance_f64(p, plane_fit_f64(&d), lights, k);
            for ch in 0..3 {
                out[ch * size * size + r * size + c] = rgb[ch];
            }
        }
    }
    out
}
