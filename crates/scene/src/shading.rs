//! Paper Eq. 1: diffuse shading with ambient light and attenuated point lights.
//!
//! This is the one place the shading equation is written. The ray tracer calls
//! [`ShadingConstants::radiance`] on exact hits; the surfel renderer of `pix2scene-render`
//! calls the same function in its fused CPU kernel, and [`ShadingConstants::radiance_vjp`] in its
//! backward pass (their lane-generic forms [`ShadingConstants::radiance_lanes`] and
//! [`ShadingConstants::radiance_vjp_lanes`], on rows of pixels at once), so a ground-truth
//! depth map rendered by the surfel renderer reproduces the ray-traced image wherever the
//! estimated normal equals the true one.

use glam::Vec3;

use crate::lanes::{Lane, Vec3s};
use serde::{Deserialize, Serialize};

/// A point light: position and RGB colour.
///
/// # Units and frames
/// `position` is in whichever frame the surface points are given in (world frame in the ray
/// tracer, camera frame in the surfel renderer), in scene units; see the crate's
/// [Conventions](crate#conventions).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointLight {
    /// Position of the light, scene units.
    pub position: Vec3,
    /// Linear RGB colour (intensity per channel, unitless).
    pub color: Vec3,
}

/// The constants of paper Eq. 1 shared by every pixel of an image: uniform diffuse material,
/// ambient light and the attenuation coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShadingConstants {
    /// Diffuse reflectance ρ per RGB channel, in [0, 1].
    pub albedo: Vec3,
    /// Ambient light colour L_a.
    pub ambient: Vec3,
    /// Linear attenuation k_l (per scene unit).
    pub k_l: f32,
    /// Quadratic attenuation k_q (per squared scene unit).
    pub k_q: f32,
}

impl Default for ShadingConstants {
    /// The defaults of every generator preset: grey material, dim ambient light and attenuation
    /// chosen so that images of the default scenes sit in [0, 1] with little saturation.
    fn default() -> Self {
        Self {
            albedo: Vec3::splat(0.7),
            ambient: Vec3::splat(0.15),
            k_l: 0.5,
            k_q: 0.5,
        }
    }
}

impl ShadingConstants {
    /// Outgoing radiance at surface point `p` with unit normal `n` (paper Eq. 1):
    ///
    /// `I = ρ ⊙ (L_a + Σ_j L_j · max(0, nᵀd_j / ‖d_j‖) / (k_l‖d_j‖ + k_q‖d_j‖²))`, with
    /// `d_j = light_j − p`.
    ///
    /// The result is not clamped: callers that store images clamp to [0, 1].
    ///
    /// # Units and frames
    /// `p`, `n` and the light positions must be in the same frame.
    #[inline]
    pub fn radiance(&self, p: Vec3, n: Vec3, lights: &[PointLight]) -> Vec3 {
        self.radiance_lanes(p.into(), n.into(), lights).into()
    }

    /// [`radiance`](Self::radiance) for every lane of `p` and `n` at once (one surface point
    /// per lane, all lit by the same `lights`). `radiance` is this function with `f32` lanes.
    #[inline(always)]
    pub fn radiance_lanes<T: Lane>(
        &self,
        p: Vec3s<T>,
        n: Vec3s<T>,
        lights: &[PointLight],
    ) -> Vec3s<T> {
        let mut sum = Vec3s::splat(self.ambient);
        let (k_l, k_q) = (T::splat(self.k_l), T::splat(self.k_q));
        for light in lights {
            let d = Vec3s::splat(light.position) - p;
            let dist = d.length();
            let cos = n.dot(d) / dist;
            let att = T::splat(1.0) / (k_l * dist + k_q * dist * dist);
            sum += Vec3s::splat(light.color) * T::where_positive(cos, cos * att);
        }
        Vec3s::splat(self.albedo).mul_elem(sum)
    }

    /// Vector–Jacobian product of [`radiance`](Self::radiance): given `g = ∂L/∂I` for the
    /// returned colour, returns `(∂L/∂p, ∂L/∂n)`.
    ///
    /// Where `nᵀd_j = 0` exactly the clamp is treated as inactive (zero gradient), the
    /// same sub-gradient as `relu` in burn and PyTorch.
    #[inline]
    pub fn radiance_vjp(&self, p: Vec3, n: Vec3, lights: &[PointLight], g: Vec3) -> (Vec3, Vec3) {
        let (gp, gn) = self.radiance_vjp_lanes(p.into(), n.into(), lights, g.into());
        (gp.into(), gn.into())
    }

    /// [`radiance_vjp`](Self::radiance_vjp) for every lane at once, as
    /// [`radiance_lanes`](Self::radiance_lanes) is to [`radiance`](Self::radiance).
    #[inline(always)]
    pub fn radiance_vjp_lanes<T: Lane>(
        &self,
        p: Vec3s<T>,
        n: Vec3s<T>,
        lights: &[PointLight],
        g: Vec3s<T>,
    ) -> (Vec3s<T>, Vec3s<T>) {
        let mut gp = Vec3s::zero();
        let mut gn = Vec3s::zero();
        let ga = g.mul_elem(Vec3s::splat(self.albedo));
        let (k_l, k_q) = (T::splat(self.k_l), T::splat(self.k_q));
        for light in lights {
            let d = Vec3s::splat(light.position) - p;
            let dist = d.length();
            let ndotd = n.dot(d);
            let inv_dist = T::splat(1.0) / dist;
            let cos = ndotd * inv_dist;
            let den = k_l * dist + k_q * dist * dist;
            let att = T::splat(1.0) / den;
            // s = Σ_c ga_c · color_c is the weight of this light's scalar term cos · att; it is
            // 0 where the clamp is active.
            let s = T::where_positive(ndotd, ga.dot(Vec3s::splat(light.color)));
            // ∂(cos·att)/∂d = att · ∂cos/∂d + cos · ∂att/∂d
            let u = d * inv_dist;
            let dcos_dd = (n - u * cos) * inv_dist;
            let datt_ddist = -(k_l + T::splat(2.0) * k_q * dist) * att * att;
            let dterm_dd = dcos_dd * att + u * (cos * datt_ddist);
            // d = light − p, so ∂/∂p = −∂/∂d.
            gp -= dterm_dd * s;
            gn += d * (inv_dist * att * s);
        }
        (gp, gn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn lights() -> Vec<PointLight> {
        vec![
            PointLight {
                position: Vec3::new(0.3, 0.6, 0.2),
                color: Vec3::new(0.8, 0.8, 0.8),
            },
            PointLight {
                position: Vec3::new(-0.5, 0.4, 0.1),
                color: Vec3::new(0.8, 0.1, 0.1),
            },
        ]
    }

    #[test]
    fn radiance_matches_hand_computed_eq1() {
        let c = ShadingConstants {
            albedo: Vec3::new(0.5, 0.6, 0.7),
            ambient: Vec3::splat(0.1),
            k_l: 0.5,
            k_q: 0.25,
        };
        // Light straight above a floor point at distance 2: cos = 1, att = 1/(1 + 1) = 0.5.
        let l = [PointLight {
            position: Vec3::new(0.0, 2.0, 0.0),
            color: Vec3::new(1.0, 0.5, 0.0),
        }];
        let i = c.radiance(Vec3::ZERO, Vec3::Y, &l);
        assert_relative_eq!(i.x, 0.5 * (0.1 + 0.5), epsilon = 1e-6);
        assert_relative_eq!(i.y, 0.6 * (0.1 + 0.25), epsilon = 1e-6);
        assert_relative_eq!(i.z, 0.7 * 0.1, epsilon = 1e-6);
        // Tilted normal at 60 degrees: cos = 0.5.
        let n = Vec3::new(3f32.sqrt() / 2.0, 0.5, 0.0);
        let i = c.radiance(Vec3::ZERO, n, &l);
        assert_relative_eq!(i.x, 0.5 * (0.1 + 0.25), epsilon = 1e-6);
        // Light behind the surface contributes nothing.
        let i = c.radiance(Vec3::ZERO, -Vec3::Y, &l);
        assert_relative_eq!(i.x, 0.05, epsilon = 1e-6);
    }

    #[test]
    fn vjp_matches_finite_differences() {
        let c = ShadingConstants::default();
        let ls = lights();
        let g = Vec3::new(0.3, -0.7, 1.1);
        let f = |p: Vec3, n: Vec3| c.radiance(p, n, &ls).dot(g) as f64;
        let cases = [
            (
                Vec3::new(0.1, -0.05, -0.9),
                Vec3::new(0.2, 0.3, 0.9).normalize(),
            ),
            (
                Vec3::new(-0.2, 0.1, -1.1),
                Vec3::new(-0.5, 0.1, 0.8).normalize(),
            ),
            (Vec3::new(0.0, 0.0, -0.7), Vec3::Z),
        ];
        let h = 1e-3f32;
        for (p, n) in cases {
            let (gp, gn) = c.radiance_vjp(p, n, &ls, g);
            for k in 0..3 {
                let e = Vec3::AXES[k] * h;
                let dp = (f(p + e, n) - f(p - e, n)) / (2.0 * h as f64);
                let dn = (f(p, n + e) - f(p, n - e)) / (2.0 * h as f64);
                assert_relative_eq!(gp[k] as f64, dp, epsilon = 2e-3, max_relative = 1e-2);
                assert_relative_eq!(gn[k] as f64, dn, epsilon = 2e-3, max_relative = 1e-2);
            }
        }
    }

    #[test]
    fn lanes_match_scalar_per_lane() {
        use crate::lanes::Lanes;
        let c = ShadingConstants::default();
        let ls = lights();
        let ps: [Vec3; 4] = std::array::from_fn(|i| Vec3::new(0.1 * i as f32, -0.05, -0.9));
        // Lane 3 faces away from every light: the clamp is active there.
        let ns: [Vec3; 4] = std::array::from_fn(|i| {
            Vec3::new(0.2, 0.3 - 0.4 * i as f32, 0.9 - 0.6 * i as f32).normalize()
        });
        let g = Vec3::new(0.3, -0.7, 1.1);
        let lanes = |v: [Vec3; 4]| Vec3s {
            x: Lanes(v.map(|v| v.x)),
            y: Lanes(v.map(|v| v.y)),
            z: Lanes(v.map(|v| v.z)),
        };
        let lane = |v: Vec3s<Lanes<4>>, i: usize| Vec3::new(v.x.0[i], v.y.0[i], v.z.0[i]);
        let rgb = c.radiance_lanes(lanes(ps), lanes(ns), &ls);
        let (gp, gn) = c.radiance_vjp_lanes(lanes(ps), lanes(ns), &ls, lanes([g; 4]));
        for i in 0..4 {
            assert_eq!(lane(rgb, i), c.radiance(ps[i], ns[i], &ls));
            let (want_p, want_n) = c.radiance_vjp(ps[i], ns[i], &ls, g);
            assert_eq!((lane(gp, i), lane(gn, i)), (want_p, want_n));
        }
    }
}
