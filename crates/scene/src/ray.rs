//! Rays and ray–surface hits.

use glam::Vec3;

/// A ray `origin + t · dir`, `t ≥ 0`.
///
/// # Units and frames
/// The frame is the caller's (world frame in the tracer, an object's local frame inside a
/// shape's [`Intersect`](crate::Intersect) implementation); `dir` is a unit vector in the world
/// frame, so that `t` is the Euclidean distance travelled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ray {
    /// Start point.
    pub origin: Vec3,
    /// Direction.
    pub dir: Vec3,
}

impl Ray {
    /// A ray from `origin` along `dir` (not normalized here).
    #[inline]
    pub fn new(origin: Vec3, dir: Vec3) -> Self {
        Self { origin, dir }
    }

    /// The point at parameter `t`.
    #[inline]
    pub fn at(&self, t: f32) -> Vec3 {
        self.origin + self.dir * t
    }
}

/// The nearest intersection of a ray with a surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Ray parameter of the hit point.
    pub t: f32,
    /// Unit outward normal of the surface at the hit point, in the ray's frame.
    pub normal: Vec3,
}
