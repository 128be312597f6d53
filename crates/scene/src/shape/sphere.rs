//! Sphere centred at the origin.

use super::Intersect;
use crate::ray::{Hit, Ray};

/// A sphere of the given radius centred at the local origin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sphere {
    /// Radius, local units, positive.
    pub radius: f32,
}

impl Intersect for Sphere {
    #[inline]
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let b = ray.origin.dot(ray.dir);
        let c = ray.origin.length_squared() - self.radius * self.radius;
        let disc = b * b - c;
        if disc < 0.0 {
            return None;
        }
        let s = disc.sqrt();
        let t = [-b - s, -b + s]
            .into_iter()
            .find(|&t| t > t_min && t < t_max)?;
        Some(Hit {
            t,
            normal: ray.at(t) / self.radius,
        })
    }

    fn bounding_radius(&self) -> f32 {
        self.radius
    }

    fn min_y(&self) -> f32 {
        -self.radius
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::check_shape_invariants;
    use glam::Vec3;

    #[test]
    fn central_ray_hits_at_distance_minus_radius() {
        let s = Sphere { radius: 0.5 };
        let h = s
            .intersect(
                &Ray::new(Vec3::new(0.0, 0.0, 3.0), -Vec3::Z),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 2.5).abs() < 1e-6);
        assert!((h.normal - Vec3::Z).length() < 1e-6);
        // Grazing offset beyond the radius misses.
        assert!(
            s.intersect(&Ray::new(Vec3::new(0.51, 0.0, 3.0), -Vec3::Z), 0.0, 10.0)
                .is_none()
        );
    }

    #[test]
    fn random_rays_satisfy_surface_invariants() {
        let s = Sphere { radius: 0.6 };
        check_shape_invariants(&s, |p| p.length() < 0.6, 2);
    }
}
