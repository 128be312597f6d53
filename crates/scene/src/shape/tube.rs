//! Closed tubes swept along a planar path (handles and straps).

use std::f32::consts::TAU;

use glam::Vec3;

use super::builder::MeshBuilder;

/// A tube with an elliptical cross-section swept along a path that lies in a plane, closed by
/// flat end caps.
///
/// # Units and frames
/// All in the local frame of the mesh being built. The cross-section at a path point spans the
/// in-plane normal of the path (half axis `half_thickness`) and the plane's normal (half axis
/// `half_width`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tube {
    /// Centre line, at least 2 points, with no two consecutive points equal.
    pub path: Vec<Vec3>,
    /// Unit normal of the plane holding the path.
    pub plane_normal: Vec3,
    /// Half axis of the cross-section along `plane_normal`.
    pub half_width: f32,
    /// Half axis of the cross-section in the path's plane.
    pub half_thickness: f32,
}

impl Tube {
    /// Adds the closed, outward-wound tube surface to `b`, with `sides` vertices per
    /// cross-section.
    ///
    /// # Panics
    /// If the path has fewer than 2 points or `sides < 3`.
    pub fn add_to(&self, b: &mut MeshBuilder, sides: usize) {
        assert!(self.path.len() >= 2 && sides >= 3, "degenerate tube");
        let n = sides as u32;
        let last = self.path.len() - 1;
        let binormal = self.plane_normal;
        let mut rings = Vec::with_capacity(self.path.len());
        for (i, &p) in self.path.iter().enumerate() {
            let tangent =
                (self.path[(i + 1).min(last)] - self.path[i.saturating_sub(1)]).normalize();
            let normal = binormal.cross(tangent).normalize();
            rings.push(b.vertices((0..sides).map(|j| {
                let phi = TAU * j as f32 / sides as f32;
                p + normal * (self.half_thickness * phi.cos())
                    + binormal * (self.half_width * phi.sin())
            })));
        }
        // With `normal = binormal × tangent`, a ring runs clockwise seen along the tangent, so
        // the stitching goes from each ring back to the previous one.
        for w in rings.windows(2) {
            b.stitch_rings(w[1], w[0], n);
        }
        let start = b.vertex(self.path[0]);
        b.fan_reversed(start, rings[0], n);
        let end = b.vertex(self.path[last]);
        b.fan(end, rings[last], n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::check_shape_invariants;

    #[test]
    fn half_torus_tube_is_closed_and_satisfies_surface_invariants() {
        let (major, minor) = (0.5f32, 0.1f32);
        let path: Vec<Vec3> = (0..=400)
            .map(|k| {
                let a = std::f32::consts::PI * k as f32 / 400.0;
                Vec3::new(major * a.cos(), major * a.sin(), 0.0)
            })
            .collect();
        let tube = Tube {
            path,
            plane_normal: Vec3::Z,
            half_width: minor,
            half_thickness: minor,
        };
        let mut b = MeshBuilder::new();
        tube.add_to(&mut b, 256);
        let mesh = b.build();
        assert!(mesh.is_closed());
        // Independent inside test: within `minor` of the half circle, in the upper half.
        let inside = |p: Vec3| {
            let ring = (p.x * p.x + p.y * p.y).sqrt() - major;
            p.y > 0.0 && ring * ring + p.z * p.z < minor * minor
        };
        check_shape_invariants(&mesh, inside, 41);
    }
}
