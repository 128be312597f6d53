//! Torus around the y axis, solved exactly as a quartic.

use glam::DVec3;

use super::Intersect;
use crate::ray::{Hit, Ray};

/// A ring torus around the local y axis: the circle of `major_radius` in the xz plane swept by a
/// disc of `minor_radius`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Torus {
    /// Distance from the centre to the tube's centre line, local units.
    pub major_radius: f32,
    /// Radius of the tube; smaller than `major_radius`.
    pub minor_radius: f32,
}

impl Intersect for Torus {
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        // Work in f64, with the origin moved to where the ray enters the bounding sphere so the
        // quartic's coefficients stay well conditioned.
        let big_r = self.major_radius as f64;
        let small_r = self.minor_radius as f64;
        let o = ray.origin.as_dvec3();
        let d = ray.dir.as_dvec3();
        let bound = big_r + small_r;
        let b = o.dot(d);
        let c = o.length_squared() - bound * bound;
        let disc = b * b - c;
        if disc < 0.0 {
            return None;
        }
        let t_enter = (-b - disc.sqrt()).max(0.0);
        let o = o + d * t_enter;
        // |p|² + R² − r² = 2R·√(x² + z²), squared: (|p|² + k)² − 4R²(x² + z²) = 0.
        let k = big_r * big_r - small_r * small_r;
        let od = o.dot(d);
        let oo = o.length_squared();
        let dxz = d.x * d.x + d.z * d.z;
        let odxz = o.x * d.x + o.z * d.z;
        let ooxz = o.x * o.x + o.z * o.z;
        let four_r2 = 4.0 * big_r * big_r;
        // (t² + 2·od·t + oo + k)² − 4R²(dxz t² + 2 odxz t + ooxz), with |d| = 1.
        let a3 = 4.0 * od;
        let a2 = 2.0 * (oo + k) + 4.0 * od * od - four_r2 * dxz;
        let a1 = 4.0 * od * (oo + k) - 2.0 * four_r2 * odxz;
        let a0 = (oo + k) * (oo + k) - four_r2 * ooxz;
        let mut roots = solve_quartic(a3, a2, a1, a0);
        roots.sort_by(f64::total_cmp);
        let poly = |t: f64| (((t + a3) * t + a2) * t + a1) * t + a0;
        let dpoly = |t: f64| ((4.0 * t + 3.0 * a3) * t + 2.0 * a2) * t + a1;
        for t in roots {
            // Two Newton steps polish the closed-form root.
            let mut t = t;
            for _ in 0..2 {
                let dp = dpoly(t);
                if dp.abs() > 1e-12 {
                    t -= poly(t) / dp;
                }
            }
            let t_world = (t + t_enter) as f32;
            if t_world > t_min && t_world < t_max {
                let p = o + d * t;
                let ring = DVec3::new(p.x, 0.0, p.z).normalize_or_zero() * big_r;
                let n = (p - ring).normalize();
                return Some(Hit {
                    t: t_world,
                    normal: n.as_vec3(),
                });
            }
        }
        None
    }

    fn bounding_radius(&self) -> f32 {
        self.major_radius + self.minor_radius
    }

    fn min_y(&self) -> f32 {
        -self.minor_radius
    }
}

/// Real roots of the monic quartic `t⁴ + a t³ + b t² + c t + d` (Ferrari's method).
fn solve_quartic(a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
    // Depressed quartic y⁴ + p y² + q y + r with t = y − a/4.
    let a2 = a * a;
    let p = b - 3.0 * a2 / 8.0;
    let q = c - a * b / 2.0 + a2 * a / 8.0;
    let r = d - a * c / 4.0 + a2 * b / 16.0 - 3.0 * a2 * a2 / 256.0;
    let shift = -a / 4.0;
    let mut out = Vec::with_capacity(4);
    if q.abs() < 1e-14 {
        // Biquadratic.
        for y2 in solve_quadratic(1.0, p, r) {
            if y2 >= 0.0 {
                let y = y2.sqrt();
                out.push(y + shift);
                out.push(-y + shift);
            }
        }
        return out;
    }
    // Resolvent cubic 8m³ + 8p m² + (2p² − 8r) m − q² = 0 has a positive root.
    let m = largest_cubic_root(p, (p * p) / 4.0 - r, -(q * q) / 8.0);
    if m <= 0.0 {
        return out;
    }
    let s = (2.0 * m).sqrt();
    for (sign, qs) in [(-1.0, q / (2.0 * s)), (1.0, -q / (2.0 * s))] {
        for y in solve_quadratic(1.0, sign * s, p / 2.0 + m + qs) {
            out.push(y + shift);
        }
    }
    out
}

/// Real roots of `a x² + b x + c` (numerically stable form).
fn solve_quadratic(a: f64, b: f64, c: f64) -> Vec<f64> {
    let disc = b * b - 4.0 * a * c;
    if disc < 0.0 {
        return Vec::new();
    }
    let q = -0.5 * (b + b.signum() * disc.sqrt());
    if q == 0.0 {
        return vec![0.0, 0.0];
    }
    vec![q / a, c / q]
}

/// Largest real root of the monic cubic `m³ + b m² + c m + d`, refined by Newton steps.
fn largest_cubic_root(b: f64, c: f64, d: f64) -> f64 {
    let q = (b * b - 3.0 * c) / 9.0;
    let r = (2.0 * b * b * b - 9.0 * b * c + 27.0 * d) / 54.0;
    let mut m = if r * r < q * q * q {
        let theta = (r / (q * q * q).sqrt()).clamp(-1.0, 1.0).acos();
        -2.0 * q.sqrt() * (theta / 3.0).cos() - b / 3.0
    } else {
        let aa = -r.signum() * (r.abs() + (r * r - q * q * q).sqrt()).cbrt();
        let bb = if aa != 0.0 { q / aa } else { 0.0 };
        aa + bb - b / 3.0
    };
    for _ in 0..3 {
        let f = ((m + b) * m + c) * m + d;
        let df = (3.0 * m + 2.0 * b) * m + c;
        if df.abs() > 1e-300 {
            m -= f / df;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::check_shape_invariants;
    use glam::Vec3;

    #[test]
    fn ray_along_x_hits_outer_then_inner_surface() {
        let t = Torus {
            major_radius: 1.0,
            minor_radius: 0.25,
        };
        let h = t
            .intersect(
                &Ray::new(Vec3::new(3.0, 0.0, 0.0), -Vec3::X),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 1.75).abs() < 1e-5, "t = {}", h.t);
        assert!((h.normal - Vec3::X).length() < 1e-5);
        // Starting in the hole, the first hit is the inner equator of the tube.
        let h = t
            .intersect(&Ray::new(Vec3::ZERO, Vec3::X), 0.0, f32::INFINITY)
            .unwrap();
        assert!((h.t - 0.75).abs() < 1e-5);
        assert!((h.normal + Vec3::X).length() < 1e-5);
        // Straight down through the hole misses.
        assert!(
            t.intersect(&Ray::new(Vec3::new(0.0, 3.0, 0.0), -Vec3::Y), 0.0, 10.0)
                .is_none()
        );
        // Straight down onto the tube's top.
        let h = t
            .intersect(&Ray::new(Vec3::new(0.0, 3.0, 1.0), -Vec3::Y), 0.0, 10.0)
            .unwrap();
        assert!((h.t - 2.75).abs() < 1e-5);
    }

    #[test]
    fn quartic_roots_are_roots() {
        // (t − 1)(t − 2)(t + 3)(t − 0.5) = t⁴ − 0.5t³ − 7t² + 9.5t − 3
        let mut r = solve_quartic(-0.5, -7.0, 9.5, -3.0);
        r.sort_by(f64::total_cmp);
        let expect = [-3.0, 0.5, 1.0, 2.0];
        assert_eq!(r.len(), 4);
        for (a, b) in r.iter().zip(expect) {
            assert!((a - b).abs() < 1e-9, "{r:?}");
        }
    }

    #[test]
    fn random_rays_satisfy_surface_invariants() {
        let t = Torus {
            major_radius: 0.5,
            minor_radius: 0.2,
        };
        check_shape_invariants(
            &t,
            |p| {
                let q = (p.x * p.x + p.z * p.z).sqrt() - 0.5;
                q * q + p.y * p.y < 0.04
            },
            5,
        );
    }
}
