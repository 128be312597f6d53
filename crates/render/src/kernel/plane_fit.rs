//! Paper Eq. 3 for one pixel per lane, and its vector–Jacobian product in two halves.
//!
//! The same arithmetic as [`crate::normals::plane_fit_normals`] (and `bench/torch_reference.py`
//! `plane_fit_normals`), written for one pixel per [`Lane`] so the fused kernel runs it on a
//! row of pixels at once in SIMD registers (and the tests on one `f32` pixel).
//!
//! The fit depends on its 8 neighbour differences only through five sums of products of the
//! normalized differences (the [`Moments`]), each term quadratic in one difference. A term is
//! therefore the same for the difference `d` seen from one end of an edge of the pixel grid and
//! `−d` seen from the other ([`Moments::of_edge`]), and its contribution to `∂L/∂d` is linear in
//! the gradient of the sums. So the forward pass computes each edge's terms once for both its
//! ends, and the backward pass takes the gradient of each pixel's sums
//! ([`PlaneFit::moments_vjp`]), adds those of an edge's two end pixels, and pulls the total
//! through the edge once ([`Moments::edge_vjp`]) instead of once per end (see `edges.rs`).

use pix2scene_scene::{Lane, Vec3s};

use crate::normals::{DET_EPS, NEIGHBOR_NORM_EPS};

/// How many sums a [`Moments`] holds: the channels of the plane-fit sums the forward pass keeps
/// for the backward pass, in the order of [`Moments::to_array`].
pub(crate) const SUMS_CHANNELS: usize = 5;

/// The five sums Eq. 3's normal depends on — `a = Σm_x², b = Σm_x m_y, c = Σm_y²` and the
/// right-hand side `r = −Σm_{x,y} m_z` over the normalized neighbour differences `m_k` — or,
/// in the backward pass, the gradient of a loss with respect to them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Moments<T> {
    pub a: T,
    pub b: T,
    pub c: T,
    pub rx: T,
    pub ry: T,
}

impl<T: Lane> Moments<T> {
    /// `[a, b, c, rx, ry]`.
    #[inline(always)]
    pub fn to_array(self) -> [T; SUMS_CHANNELS] {
        [self.a, self.b, self.c, self.rx, self.ry]
    }

    /// The inverse of [`Self::to_array`].
    #[inline(always)]
    pub fn from_array([a, b, c, rx, ry]: [T; SUMS_CHANNELS]) -> Self {
        Self { a, b, c, rx, ry }
    }

    /// The terms of one neighbour difference `d` (the same for `−d`): the products of
    /// `m = d / (‖d‖ + ε)`.
    #[inline(always)]
    pub fn of_edge(d: Vec3s<T>) -> Self {
        let m = d * (T::splat(1.0) / (d.length() + T::splat(NEIGHBOR_NORM_EPS)));
        Self {
            a: m.x * m.x,
            b: m.x * m.y,
            c: m.y * m.y,
            rx: -(m.x * m.z),
            ry: -(m.y * m.z),
        }
    }

    /// With `self` the gradient of a loss with respect to the sums, returns `∂L/∂d` through
    /// the terms of one neighbour difference `d` (or, the terms being even in `d`, the negative
    /// of that for `−d`).
    #[inline(always)]
    pub fn edge_vjp(&self, d: Vec3s<T>) -> Vec3s<T> {
        let two = T::splat(2.0);
        let len = d.length();
        let len_eps = len + T::splat(NEIGHBOR_NORM_EPS);
        let inv_len_eps = T::splat(1.0) / len_eps;
        let m = d * inv_len_eps;
        let gm = Vec3s {
            x: two * m.x * self.a + m.y * self.b - m.z * self.rx,
            y: two * m.y * self.c + m.x * self.b - m.z * self.ry,
            z: -m.x * self.rx - m.y * self.ry,
        };
        // m = d / (‖d‖ + ε): ∂m/∂d = (I − m uᵀ) / (‖d‖ + ε), u = d / ‖d‖, and
        // gm·u = (gm·m)(‖d‖ + ε)/‖d‖ (0 where d = 0).
        let u_dot = T::where_positive(len, gm.dot(m) * len_eps / len);
        (gm - m * u_dot) * inv_len_eps
    }
}

/// The plane fit of one pixel per lane, with the intermediates its backward pass needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlaneFit<T> {
    /// The sums of the normal equations.
    sums: Moments<T>,
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
    /// Fits the normal of a pixel from the sums of [`Moments::of_edge`] over its 8 neighbour
    /// differences `d_k = p_k − p`.
    #[inline(always)]
    pub fn from_sums(sums: Moments<T>) -> Self {
        let Moments { a, b, c, rx, ry } = sums;
        let inv_det = T::splat(1.0) / (a * c - b * b + T::splat(DET_EPS));
        let nx = (c * rx - b * ry) * inv_det;
        let ny = (a * ry - b * rx) * inv_det;
        let inv_norm = T::splat(1.0) / (nx * nx + ny * ny + T::splat(1.0)).sqrt();
        Self {
            sums,
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

    /// Given `gn = ∂L/∂n`, returns `∂L/∂` of the five sums; [`Moments::edge_vjp`] carries it
    /// on to each neighbour difference.
    #[inline(always)]
    pub fn moments_vjp(&self, gn: Vec3s<T>) -> Moments<T> {
        let Moments { a, b, c, rx, ry } = self.sums;
        // n = v / ‖v‖, v = (n_x', n_y', 1).
        let gv = (gn - self.n * self.n.dot(gn)) * self.inv_norm;
        // n_x' = N_x / det, n_y' = N_y / det.
        let g_nx = gv.x * self.inv_det;
        let g_ny = gv.y * self.inv_det;
        let g_det = -(gv.x * self.nx + gv.y * self.ny) * self.inv_det;
        Moments {
            a: g_ny * ry + g_det * c,
            b: -g_nx * ry - g_ny * rx - T::splat(2.0) * b * g_det,
            c: g_nx * rx + g_det * a,
            rx: g_nx * c - g_ny * b,
            ry: g_ny * a - g_nx * b,
        }
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

    fn fit_of(d: &[Vec3; 8]) -> PlaneFit<f32> {
        let mut sums = [0.0; 5];
        for d in d {
            for (s, t) in sums
                .iter_mut()
                .zip(Moments::of_edge((*d).into()).to_array())
            {
                *s += t;
            }
        }
        PlaneFit::from_sums(Moments::from_array(sums))
    }

    #[test]
    fn normal_matches_the_f64_reference() {
        for seed in 0..20 {
            let d = diffs(seed);
            let n = Vec3::from(fit_of(&d).n);
            let dd: [[f64; 3]; 8] =
                std::array::from_fn(|j| [d[j].x as f64, d[j].y as f64, d[j].z as f64]);
            let want = crate::reference::plane_fit_f64(&dd);
            for axis in 0..3 {
                assert!(
                    (n[axis] as f64 - want[axis]).abs() <= 1e-5,
                    "seed {seed}: {n} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn vjp_matches_finite_differences() {
        for seed in 0..20 {
            let d = diffs(seed);
            let gn = Vec3::new(0.3, -0.8, 0.5);
            let fit = fit_of(&d);
            let g_sums = fit.moments_vjp(gn.into());
            let h = 1e-5f64;
            for k in 0..8 {
                // The same gradient whichever end of the edge the difference is seen from.
                let gd = Vec3::from(g_sums.edge_vjp(d[k].into()));
                let gd_reversed = Vec3::from(g_sums.edge_vjp((-d[k]).into()));
                assert!((gd + gd_reversed).abs().max_element() <= 1e-6 * gd.abs().max_element());
                for axis in 0..3 {
                    let f = |delta: f64| {
                        let mut dd: [[f64; 3]; 8] =
                            std::array::from_fn(|j| [d[j].x as f64, d[j].y as f64, d[j].z as f64]);
                        dd[k][axis] += delta;
                        let n = crate::reference::plane_fit_f64(&dd);
                        n[0] * gn.x as f64 + n[1] * gn.y as f64 + n[2] * gn.z as f64
                    };
                    let fd = (f(h) - f(-h)) / (2.0 * h);
                    let got = gd[axis] as f64;
                    assert!(
                        (got - fd).abs() <= 1e-3 * fd.abs().max(1.0),
                        "seed {seed} k {k} axis {axis}: {got} vs {fd}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_zero_difference_gets_a_zero_gradient() {
        let mut d = diffs(3);
        d[5] = Vec3::ZERO;
        let fit = fit_of(&d);
        let gd = Vec3::from(
            fit.moments_vjp(Vec3::new(0.3, -0.8, 0.5).into())
                .edge_vjp(d[5].into()),
        );
        assert_eq!(gd, Vec3::ZERO);
    }
}
