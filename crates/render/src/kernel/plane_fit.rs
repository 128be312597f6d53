//! Paper Eq. 3 for one pixel per lane, and its vector–Jacobian product.
//!
//! The same arithmetic as [`crate::normals::plane_fit_normals`] (and `render_peer.py`
//! `normals_from_points`), written for one pixel per [`Lane`] so the fused kernel runs it on a row of pixels at once
//! in SIMD registers (and the tests on one `f32` pixel).

use pix2scene_scene::{Lane, Vec3s};

use crate::normals::{DET_EPS, NEIGHBOR_NORM_EPS};

/// The plane fit of one pixel per lane, with the intermediates its backward pass needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlaneFit<T> {
    /// Normalized neighbour differences `m_k = d_k / (‖d_k‖ + ε)`.
    m: [Vec3s<T>; 8],
    /// `(‖d_k‖ + ε) / ‖d_k‖` (0 where `d_k = 0`), the factor relating `gm·m` to `gm·u` in
    /// [`Self::vjp`].
    len_ratio: [T; 8],
    /// `1 / (‖d_k‖ + ε)`.
    inv_len_eps: [T; 8],
    /// Entries of the normal equations: `a = Σm_x², b = Σm_x m_y, c = Σm_y²`.
    a: T,
    b: T,
    c: T,
    /// Right-hand side `r = −Σ m_{x,y} m_z`.
    rx: T,
    ry: T,
    /// `1 / (ac − b² + 1e-12)`.
    inv_det: T,
    /// `1 / ‖(n_x, n_y, 1)‖`.
    inv_norm: T,
    /// The unnormalized normal's `(n_x, n_y)` (its z is 1).
    nx: T,
    ny: T,
    /// The unit normal.
    pub n: Vec3s<T>,
}

impl<T: Lane> PlaneFit<T> {
    /// Fits the normal of a pixel from its 8 neighbour differences `d_k = p_k − p` (in the
    /// order of [`crate::normals::NEIGHBOR_OFFSETS`]).
    #[inline(always)]
    pub fn new(d: &[Vec3s<T>; 8]) -> Self {
        let zero = T::splat(0.0);
        let mut m = [Vec3s::zero(); 8];
        let mut inv_len_eps = [zero; 8];
        let mut len_ratio = [zero; 8];
        let (mut a, mut b, mut c, mut rx, mut ry) = (zero, zero, zero, zero, zero);
        for k in 0..8 {
            let len = d[k].length();
            let len_eps = len + T::splat(NEIGHBOR_NORM_EPS);
            len_ratio[k] = T::where_positive(len, len_eps / len);
            inv_len_eps[k] = T::splat(1.0) / len_eps;
            let mk = d[k] * inv_len_eps[k];
            m[k] = mk;
            a += mk.x * mk.x;
            b += mk.x * mk.y;
            c += mk.y * mk.y;
            rx -= mk.x * mk.z;
            ry -= mk.y * mk.z;
        }
        let inv_det = T::splat(1.0) / (a * c - b * b + T::splat(DET_EPS));
        let nx = (c * rx - b * ry) * inv_det;
        let ny = (a * ry - b * rx) * inv_det;
        let inv_norm = T::splat(1.0) / (nx * nx + ny * ny + T::splat(1.0)).sqrt();
        Self {
            m,
            len_ratio,
            inv_len_eps,
            a,
            b,
            c,
            rx,
            ry,
            inv_det,
            inv_norm,
            nx,
            ny,
            n: Vec3s {
                x: nx * inv_norm,
                y: ny * inv_norm,
                z: inv_norm,
            },
        }
    }

    /// Given `gn = ∂L/∂n`, returns `∂L/∂d_k` for the 8 neighbour differences.
    #[inline(always)]
    pub fn vjp(&self, gn: Vec3s<T>) -> [Vec3s<T>; 8] {
        let two = T::splat(2.0);
        // n = v / ‖v‖, v = (n_x', n_y', 1).
        let gv = (gn - self.n * self.n.dot(gn)) * self.inv_norm;
        // n_x' = N_x / det, n_y' = N_y / det.
        let g_nx = gv.x * self.inv_det;
        let g_ny = gv.y * self.inv_det;
        let g_det = -(gv.x * self.nx + gv.y * self.ny) * self.inv_det;
        let ga = g_ny * self.ry + g_det * self.c;
        let gb = -g_nx * self.ry - g_ny * self.rx - two * self.b * g_det;
        let gc = g_nx * self.rx + g_det * self.a;
        let grx = g_nx * self.c - g_ny * self.b;
        let gry = g_ny * self.a - g_nx * self.b;
        let mut gd = [Vec3s::zero(); 8];
        for (k, gd) in gd.iter_mut().enumerate() {
            let m = self.m[k];
            let gm = Vec3s {
                x: two * m.x * ga + m.y * gb - m.z * grx,
                y: two * m.y * gc + m.x * gb - m.z * gry,
                z: -m.x * grx - m.y * gry,
            };
            // m = d / (‖d‖ + ε): ∂m/∂d = (I − m uᵀ) / (‖d‖ + ε), u = d / ‖d‖, and
            // gm·u = (gm·m)(‖d‖ + ε)/‖d‖.
            let u_dot = gm.dot(m) * self.len_ratio[k];
            *gd = (gm - m * u_dot) * self.inv_len_eps[k];
        }
        gd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix2scene_scene::glam::Vec3;

    fn diffs(seed: u32) -> [Vec3; 8] {
        let mut s = seed;
        let mut r = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        std::array::from_fn(|k| {
            let (dy, dx) = crate::normals::NEIGHBOR_OFFSETS[k];
            Vec3::new(
                dx as f32 * 0.01 + 0.003 * r(),
                -dy as f32 * 0.01 + 0.003 * r(),
                0.01 * r(),
            )
        })
    }

    #[test]
    fn vjp_matches_finite_differences() {
        for seed in 0..20 {
            let d = diffs(seed);
            let gn = Vec3::new(0.3, -0.8, 0.5);
            let fit = PlaneFit::new(&d.map(Vec3s::from));
            let gd = fit.vjp(gn.into()).map(Vec3::from);
            let h = 1e-5f64;
            for k in 0..8 {
                for axis in 0..3 {
                    let f = |delta: f64| {
                        let mut dd: [[f64; 3]; 8] =
                            std::array::from_fn(|j| [d[j].x as f64, d[j].y as f64, d[j].z as f64]);
                        dd[k][axis] += delta;
                        let n = crate::reference::plane_fit_f64(&dd);
                        n[0] * gn.x as f64 + n[1] * gn.y as f64 + n[2] * gn.z as f64
                    };
                    let fd = (f(h) - f(-h)) / (2.0 * h);
                    let got = gd[k][axis] as f64;
                    assert!(
                        (got - fd).abs() <= 1e-3 * fd.abs().max(1.0),
                        "seed {seed} k {k} axis {axis}: {got} vs {fd}"
                    );
                }
            }
        }
    }
}
