//! Capped cylinder along the y axis.

use glam::Vec3;

use super::Intersect;
use crate::ray::{Hit, Ray};

/// A solid cylinder around the local y axis, centred at the origin, with flat caps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cylinder {
    /// Radius, local units.
    pub radius: f32,
    /// Half of the height; the caps are at `y = ±half_height`.
    pub half_height: f32,
}

impl Intersect for Cylinder {
    #[inline]
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        let mut t_best = t_max;
        let (o, d) = (ray.origin, ray.dir);
        let r2 = self.radius * self.radius;
        // Side: (ox + t dx)² + (oz + t dz)² = r².
        let a = d.x * d.x + d.z * d.z;
        if a > 1e-12 {
            let b = o.x * d.x + o.z * d.z;
            let c = o.x * o.x + o.z * o.z - r2;
            let disc = b * b - a * c;
            if disc >= 0.0 {
                let s = disc.sqrt();
                for t in [(-b - s) / a, (-b + s) / a] {
                    if t > t_min && t < t_best {
                        let p = ray.at(t);
                        if p.y.abs() <= self.half_height {
                            t_best = t;
                            best = Some(Hit {
                                t,
                                normal: Vec3::new(p.x, 0.0, p.z) / self.radius,
                            });
                            break;
                        }
                    }
                }
            }
        }
        // Caps.
        if d.y.abs() > 1e-12 {
            for sign in [-1.0f32, 1.0] {
                let t = (sign * self.half_height - o.y) / d.y;
                if t > t_min && t < t_best {
                    let p = ray.at(t);
                    if p.x * p.x + p.z * p.z <= r2 {
                        t_best = t;
                        best = Some(Hit {
                            t,
                            normal: Vec3::Y * sign,
                        });
                    }
                }
            }
        }
        best
    }

    fn bounding_radius(&self) -> f32 {
        (self.radius * self.radius + self.half_height * self.half_height).sqrt()
    }

    fn min_y(&self) -> f32 {
        -self.half_height
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::check_shape_invariants;

    #[test]
    fn side_and_cap_hits_are_analytic() {
        let c = Cylinder {
            radius: 0.5,
            half_height: 1.0,
        };
        let h = c
            .intersect(
                &Ray::new(Vec3::new(3.0, 0.2, 0.0), -Vec3::X),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 2.5).abs() < 1e-6);
        assert!((h.normal - Vec3::X).length() < 1e-6);
        let h = c
            .intersect(
                &Ray::new(Vec3::new(0.1, 4.0, 0.1), -Vec3::Y),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 3.0).abs() < 1e-6);
        assert_eq!(h.normal, Vec3::Y);
        // Above the top cap, beside the axis, misses.
        assert!(
            c.intersect(&Ray::new(Vec3::new(3.0, 1.2, 0.0), -Vec3::X), 0.0, 10.0)
                .is_none()
        );
    }

    #[test]
    fn random_rays_satisfy_surface_invariants() {
        let c = Cylinder {
            radius: 0.4,
            half_height: 0.6,
        };
        check_shape_invariants(&c, |p| p.x * p.x + p.z * p.z < 0.16 && p.y.abs() < 0.6, 3);
    }
}
