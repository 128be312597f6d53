//! Axis-aligned box centred at the origin.

use glam::Vec3;

use super::Intersect;
use crate::ray::{Hit, Ray};

/// A box centred at the local origin with the given half extents along x, y, z.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cuboid {
    /// Half side lengths, local units, each positive.
    pub half_extents: Vec3,
}

impl Intersect for Cuboid {
    #[inline]
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let inv = ray.dir.recip();
        let t0 = (-self.half_extents - ray.origin) * inv;
        let t1 = (self.half_extents - ray.origin) * inv;
        let near = t0.min(t1);
        let far = t0.max(t1);
        let t_near = near.max_element();
        let t_far = far.min_element();
        if t_near > t_far {
            return None;
        }
        let (t, axis, sign) = if t_near > t_min {
            let axis = arg_max(near);
            (t_near, axis, -ray.dir[axis].signum())
        } else {
            let axis = arg_min(far);
            (t_far, axis, ray.dir[axis].signum())
        };
        if t <= t_min || t >= t_max {
            return None;
        }
        Some(Hit {
            t,
            normal: Vec3::AXES[axis] * sign,
        })
    }

    fn bounding_radius(&self) -> f32 {
        self.half_extents.length()
    }

    fn min_y(&self) -> f32 {
        -self.half_extents.y
    }
}

#[inline]
fn arg_max(v: Vec3) -> usize {
    if v.x >= v.y && v.x >= v.z {
        0
    } else if v.y >= v.z {
        1
    } else {
        2
    }
}

#[inline]
fn arg_min(v: Vec3) -> usize {
    if v.x <= v.y && v.x <= v.z {
        0
    } else if v.y <= v.z {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::check_shape_invariants;

    #[test]
    fn axis_rays_hit_the_faces_at_the_analytic_distance() {
        let b = Cuboid {
            half_extents: Vec3::new(0.5, 1.0, 2.0),
        };
        let h = b
            .intersect(
                &Ray::new(Vec3::new(5.0, 0.1, 0.2), -Vec3::X),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 4.5).abs() < 1e-6);
        assert_eq!(h.normal, Vec3::X);
        let h = b
            .intersect(
                &Ray::new(Vec3::new(0.1, -3.0, 0.2), Vec3::Y),
                0.0,
                f32::INFINITY,
            )
            .unwrap();
        assert!((h.t - 2.0).abs() < 1e-6);
        assert_eq!(h.normal, -Vec3::Y);
        // From inside, the exit face is hit with its outward normal.
        let h = b
            .intersect(&Ray::new(Vec3::ZERO, Vec3::Z), 0.0, f32::INFINITY)
            .unwrap();
        assert!((h.t - 2.0).abs() < 1e-6);
        assert_eq!(h.normal, Vec3::Z);
        assert!(
            b.intersect(&Ray::new(Vec3::new(5.0, 1.5, 0.0), -Vec3::X), 0.0, 10.0)
                .is_none()
        );
    }

    #[test]
    fn random_rays_satisfy_surface_invariants() {
        let b = Cuboid {
            half_extents: Vec3::new(0.3, 0.5, 0.7),
        };
        let inside = |p: Vec3| (p.abs() - b.half_extents).max_element() < 0.0;
        check_shape_invariants(&b, inside, 1);
    }
}
