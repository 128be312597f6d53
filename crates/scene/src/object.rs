//! Objects: a shape placed in the world by a rigid transform and a uniform scale.

use glam::{Quat, Vec3};

use crate::ray::{Hit, Ray};
use crate::shape::{Intersect, Shape};

/// Local-to-world transform of an object: `p_world = translation + scale · rotation · p_local`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Rotation, local to world.
    pub rotation: Quat,
    /// Position of the local origin in the world frame, scene units.
    pub translation: Vec3,
    /// Uniform scale, positive.
    pub scale: f32,
}

impl Placement {
    /// The identity placement.
    pub const IDENTITY: Placement = Placement {
        rotation: Quat::IDENTITY,
        translation: Vec3::ZERO,
        scale: 1.0,
    };

    /// Maps a local point to the world frame.
    #[inline]
    pub fn point_to_world(&self, p_local: Vec3) -> Vec3 {
        self.translation + self.rotation * (p_local * self.scale)
    }
}

/// A shape with its placement, plus a cached world-frame bounding sphere.
#[derive(Clone, Debug)]
pub struct Object {
    shape: Shape,
    placement: Placement,
    inv_rotation: Quat,
    bound_centre: Vec3,
    bound_radius_sq: f32,
}

impl Object {
    /// Places `shape` in the world.
    ///
    /// # Panics
    /// If `placement.scale` is not positive (an internal invariant of the scene families).
    pub fn new(shape: Shape, placement: Placement) -> Self {
        assert!(placement.scale > 0.0, "object scale must be positive");
        let r = shape.bounding_radius() * placement.scale;
        Self {
            inv_rotation: placement.rotation.inverse(),
            bound_centre: placement.translation,
            bound_radius_sq: r * r,
            shape,
            placement,
        }
    }

    /// The shape in its local frame.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The local-to-world placement.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// Nearest hit of a world-frame ray (unit direction) with `t_min < t < t_max`; the hit's `t`
    /// is the world distance and its normal is the world-frame outward normal.
    #[inline]
    pub fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        // Bounding-sphere rejection in the world frame.
        let oc = ray.origin - self.bound_centre;
        let b = oc.dot(ray.dir);
        let c = oc.length_squared() - self.bound_radius_sq;
        if c > 0.0 && (b > 0.0 || b * b < c) {
            return None;
        }
        let inv_scale = 1.0 / self.placement.scale;
        let local = Ray::new(
            self.inv_rotation * (oc * inv_scale),
            self.inv_rotation * ray.dir,
        );
        let hit = self
            .shape
            .intersect(&local, t_min * inv_scale, t_max * inv_scale)?;
        Some(Hit {
            t: hit.t * self.placement.scale,
            normal: self.placement.rotation * hit.normal,
        })
    }
}
