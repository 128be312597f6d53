//! Capped cone along the y axis, apex up.

use glam::Vec3;

use super::Intersect;
use crate::ray::{Hit, Ray};

/// A solid cone around the local y axis: base disc of `radius` at `y = −half_height`, apex at
/// `y = +half_height`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cone {
    /// Base radius, local units.
    pub radius: f32,
    /// Half of the height.
    pub half_height: f32,
}

impl Intersect for Cone {
    #[inline]
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let (o, d) = (ray.origin, ray.dir);
        let h = self.half_height;
        let k = self.radius / (2.0 * h);
        let k2 = k * k;
        let mut best: Option<Hit> = None;
        let mut t_best = t_max;
        // Side: x² + z² = k² (h − y)², with h − y = (h − oy) − t dy.
        let w = h - o.y;
        let a = d.x * d.x + d.z * d.z - k2 * d.y * d.y;
        let b = o.x * d.x + o.z * d.z + k2 * w * d.y;
        let c = o.x * o.x + o.z * o.z - k2 * w * w;
        let mut roots = [f32::NAN; 2];
        if a.abs() > 1e-9 {
            let disc = b * b - a * c;
            if disc >= 0.0 {
                let s = disc.sqrt();
                roots = [(-b - s) / a, (-b + s) / a];
                if roots[0] > roots[1] {
                    roots.swap(0, 1);
                }
            }
        } else if b.abs() > 1e-12 {
            roots[0] = -c / (2.0 * b);
        }
        for t in roots {
            if t > t_min && t < t_best {
                let p = ray.at(t);
                if p.y >= -h && p.y <= h {
                    t_best = t;
                    let n = Vec3::new(p.x, k2 * (h - p.y), p.z);
                    best = Some(Hit {
                        t,
                        normal: n.normalize(),
                    });
                    break;
                }
            }
        }
        // Base cap.
        if d.y.abs() > 1e-12 {
            let t = (-h - o.y) / d.y;
            if t > t_min && t < t_best {
                let p = ray.at(t);
                if p.x * p.x + p.z * p.z <= self.radius * self.radius {
                    best = Some(Hit {
                        t,
                        normal: -Vec3::Y,
                    });
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
    fn side_hit_is_on_the_cone_and_normal_is_analytic() {
        let c = Cone {
            radius: 1.0,
            half_height: 1.0,
        };
        // Horizontal ray at y = 0: the section has radius 0.5.
        let h = c
            .intersect(
                &Ray::new(Vec3::new(3.0, 0.0, 0.0), -Vec3::X),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 2.5).abs() < 1e-5);
        // Slope: radius drops 1 per 2 of height, so the normal is (2, 1, 0)/√5.
        let expect = Vec3::new(2.0, 1.0, 0.0).normalize();
        assert!((h.normal - expect).length() < 1e-5);
        let h = c
            .intersect(
                &Ray::new(Vec3::new(0.2, -3.0, 0.0), Vec3::Y),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 2.0).abs() < 1e-6);
        assert_eq!(h.normal, -Vec3::Y);
        // The mirrored nappe above the apex is not part of the shape.
        assert!(
            c.intersect(&Ray::new(Vec3::new(3.0, 2.0, 0.0), -Vec3::X), 0.0, 10.0)
                .is_none()
        );
    }

    #[test]
    fn random_rays_satisfy_surface_invariants() {
        let c = Cone {
            radius: 0.5,
            half_height: 0.6,
        };
        check_shape_invariants(
            &c,
            |p| p.y.abs() < 0.6 && (p.x * p.x + p.z * p.z).sqrt() < 0.5 * (0.6 - p.y) / 1.2,
            4,
        );
    }
}
