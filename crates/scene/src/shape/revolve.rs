//! Surfaces of revolution about the y axis, from a 2D profile.

use std::f32::consts::TAU;

use glam::{Vec2, Vec3};

use super::TriangleMesh;
use super::builder::MeshBuilder;
use crate::error::{Error, Result};

/// The cross-section of a solid of revolution about the y axis, in the (radius, height)
/// half-plane.
///
/// The profile is a polyline from a point on the axis (radius 0) to another point on the axis,
/// with every point between them off the axis; together with the axis segment joining its ends
/// it bounds the cross-section, so the revolved surface is closed. Polylines that cross
/// themselves give self-intersecting surfaces and are not detected.
///
/// # Units and frames
/// Each point is `(radius, y)` in the local frame of the revolved mesh: the point
/// `(radius, y)` sweeps the circle `(radius·cos θ, y, radius·sin θ)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Counter-clockwise in the (radius, y) plane (radius to the right, y up).
    points: Vec<Vec2>,
}

impl Profile {
    /// A profile from its polyline; its direction does not matter.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if there are fewer than 3 points, a point is not finite, the
    /// first or last point is off the axis, or a point between them has a radius ≤ 0.
    pub fn new(mut points: Vec<Vec2>) -> Result<Self> {
        let invalid = |message: String| Error::InvalidValue {
            field: "profile".to_string(),
            message,
        };
        if points.len() < 3 {
            return Err(invalid(format!(
                "{} points, at least 3 needed",
                points.len()
            )));
        }
        if let Some(p) = points.iter().find(|p| !p.is_finite()) {
            return Err(invalid(format!("point {p} is not finite")));
        }
        let (first, last) = (points[0], points[points.len() - 1]);
        if first.x != 0.0 || last.x != 0.0 {
            return Err(invalid(format!(
                "the ends {first} and {last} must lie on the axis (radius 0)"
            )));
        }
        if let Some(p) = points[1..points.len() - 1].iter().find(|p| p.x <= 0.0) {
            return Err(invalid(format!(
                "point {p} between the ends has a radius ≤ 0"
            )));
        }
        if signed_area(&points) < 0.0 {
            points.reverse();
        }
        Ok(Self { points })
    }

    /// A solid from its outline: `outline` gives `(radius, y)` points, all off the axis, from
    /// the bottom edge to the top edge; the bottom and top are closed by flat discs.
    ///
    /// # Errors
    /// As [`Profile::new`].
    pub fn solid(outline: &[Vec2]) -> Result<Self> {
        let (Some(first), Some(last)) = (outline.first(), outline.last()) else {
            return Self::new(Vec::new());
        };
        let mut points = Vec::with_capacity(outline.len() + 2);
        points.push(Vec2::new(0.0, first.y));
        points.extend_from_slice(outline);
        points.push(Vec2::new(0.0, last.y));
        Self::new(points)
    }

    /// An open-topped vessel (bowl, mug, cup) from its outer wall.
    ///
    /// `outer` gives `(radius, y)` points from the rim of the flat base up to the lip. The
    /// inner wall is the outer one offset inward by `thickness` along its normals, the floor is
    /// `thickness` above the base, and the lip is flat.
    ///
    /// # Errors
    /// As [`Profile::new`], or [`Error::InvalidValue`] if `thickness` is not positive or the
    /// offset wall reaches the axis or goes below the floor at the lip.
    pub fn vessel(outer: &[Vec2], thickness: f32) -> Result<Self> {
        let invalid = |message: String| Error::InvalidValue {
            field: "profile".to_string(),
            message,
        };
        if thickness.is_nan() || thickness <= 0.0 {
            return Err(invalid(format!(
                "wall thickness {thickness} is not positive"
            )));
        }
        if outer.len() < 2 {
            return Err(invalid(format!(
                "outer wall has {} points, at least 2 needed",
                outer.len()
            )));
        }
        let y0 = outer[0].y;
        let floor = y0 + thickness;
        // Outward normals of the wall's segments (it runs upward, so outward is on the right).
        let seg_normals: Vec<Vec2> = outer
            .windows(2)
            .map(|w| {
                let d = (w[1] - w[0]).normalize_or_zero();
                Vec2::new(d.y, -d.x)
            })
            .collect();
        let inner: Vec<Vec2> = (0..outer.len())
            .map(|k| {
                let before = seg_normals[k.saturating_sub(1)];
                let after = seg_normals[k.min(seg_normals.len() - 1)];
                let n = (before + after).normalize_or_zero();
                // Miter: offset the vertex so that both adjacent segments move by `thickness`.
                let miter = n.dot(after).max(0.5);
                outer[k] - n * (thickness / miter)
            })
            .collect();
        let mut points = Vec::with_capacity(2 * outer.len() + 3);
        points.push(Vec2::new(0.0, y0));
        points.extend_from_slice(outer);
        let top = inner[inner.len() - 1];
        if top.y <= floor {
            return Err(invalid(format!(
                "the lip at height {} is not above the floor at {floor}",
                top.y
            )));
        }
        let mut above = top;
        for (k, &q) in inner.iter().enumerate().rev() {
            if q.y > floor {
                points.push(q);
                above = q;
                if k == 0 {
                    points.push(Vec2::new(q.x, floor));
                }
            } else {
                let s = (above.y - floor) / (above.y - q.y);
                points.push(Vec2::new(above.x + (q.x - above.x) * s, floor));
                break;
            }
        }
        points.push(Vec2::new(0.0, floor));
        Self::new(points)
    }

    /// The profile's points, counter-clockwise in the (radius, y) plane.
    pub fn points(&self) -> &[Vec2] {
        &self.points
    }

    /// Whether the local-frame point `p` is inside the exact (smooth) solid of revolution.
    pub fn contains(&self, p: Vec3) -> bool {
        let q = Vec2::new(Vec2::new(p.x, p.z).length(), p.y);
        // Even-odd rule on the closed polygon (the profile plus the axis segment).
        let mut inside = false;
        let n = self.points.len();
        for i in 0..n {
            let a = self.points[i];
            let b = self.points[(i + 1) % n];
            if (a.y > q.y) != (b.y > q.y) {
                let x = a.x + (q.y - a.y) / (b.y - a.y) * (b.x - a.x);
                if q.x < x {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// The closed, outward-wound mesh of the profile swept around the y axis in `segments`
    /// steps. Not normalized.
    ///
    /// # Panics
    /// If `segments < 3`.
    pub fn revolve(&self, segments: usize) -> TriangleMesh {
        let mut b = MeshBuilder::new();
        self.revolve_into(&mut b, segments);
        b.build()
    }

    /// Adds the revolved surface to `b` (see [`Profile::revolve`]).
    pub(crate) fn revolve_into(&self, b: &mut MeshBuilder, segments: usize) {
        assert!(segments >= 3, "a revolution needs at least 3 segments");
        let n = segments as u32;
        let last = self.points.len() - 1;
        let bottom = b.vertex(Vec3::new(0.0, self.points[0].y, 0.0));
        let mut previous = None;
        for p in &self.points[1..last] {
            let ring = b.vertices((0..segments).map(|j| {
                let theta = TAU * j as f32 / segments as f32;
                Vec3::new(p.x * theta.cos(), p.y, p.x * theta.sin())
            }));
            match previous {
                None => b.fan(bottom, ring, n),
                Some(prev) => b.stitch_rings(prev, ring, n),
            }
            previous = Some(ring);
        }
        let top = b.vertex(Vec3::new(0.0, self.points[last].y, 0.0));
        if let Some(prev) = previous {
            b.fan_reversed(top, prev, n);
        }
    }
}

/// Twice the signed area of the polygon (positive when counter-clockwise).
fn signed_area(points: &[Vec2]) -> f32 {
    let n = points.len();
    (0..n)
        .map(|i| points[i].perp_dot(points[(i + 1) % n]))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Cylinder, Intersect};
    use crate::testutil::check_shape_invariants;

    fn v(points: &[[f32; 2]]) -> Vec<Vec2> {
        points.iter().map(|&p| Vec2::from(p)).collect()
    }

    #[test]
    fn revolved_solid_is_closed_and_satisfies_surface_invariants() {
        // A bottle-like solid: base, body, shoulder, neck.
        let profile = Profile::solid(&v(&[
            [0.3, -0.5],
            [0.3, 0.1],
            [0.2, 0.25],
            [0.08, 0.3],
            [0.08, 0.5],
        ]))
        .unwrap();
        let mesh = profile.revolve(512);
        assert!(mesh.is_closed());
        check_shape_invariants(&mesh, |p| profile.contains(p), 21);
    }

    #[test]
    fn vessel_is_closed_hollow_and_satisfies_surface_invariants() {
        let profile = Profile::vessel(&v(&[[0.3, -0.4], [0.35, 0.0], [0.4, 0.4]]), 0.05).unwrap();
        // The centre above the floor is empty; the wall is solid.
        assert!(!profile.contains(Vec3::new(0.0, 0.0, 0.0)));
        assert!(profile.contains(Vec3::new(0.0, -0.38, 0.0)));
        assert!(profile.contains(Vec3::new(0.0, 0.0, -0.33)));
        // The wall is `thickness` thick, measured along the normal.
        let wall_normal = Vec2::new(0.4, -0.05).normalize();
        let mid = Vec2::new(0.375, 0.2);
        let probe = |d: f32| {
            let q = mid - wall_normal * d;
            profile.contains(Vec3::new(q.x, q.y, 0.0))
        };
        assert!(probe(0.049) && !probe(0.051));
        let mesh = profile.revolve(512);
        assert!(mesh.is_closed());
        check_shape_invariants(&mesh, |p| profile.contains(p), 22);
    }

    #[test]
    fn revolved_rectangle_approaches_the_analytic_cylinder() {
        let profile = Profile::solid(&v(&[[0.5, -0.25], [0.5, 0.25]])).unwrap();
        let mesh = profile.revolve(256);
        let cylinder = Cylinder {
            radius: 0.5,
            half_height: 0.25,
        };
        // Rays along random directions through the axis: the polygon's inradius differs from
        // the circle by r·(1 − cos(π/256)) < 4e-5.
        for k in 0..100 {
            let theta = k as f32 * 0.731;
            let origin = Vec3::new(2.0 * theta.cos(), 0.1 * (k as f32).sin(), 2.0 * theta.sin());
            let dir = Vec3::new(-origin.x, 0.0, -origin.z).normalize();
            let ray = crate::ray::Ray::new(origin, dir);
            let a = mesh.intersect(&ray, 0.0, f32::INFINITY).unwrap();
            let b = cylinder.intersect(&ray, 0.0, f32::INFINITY).unwrap();
            assert!((a.t - b.t).abs() < 4e-5, "{} vs {}", a.t, b.t);
            assert!((a.normal - b.normal).length() < 0.02);
        }
    }

    #[test]
    fn bad_profiles_are_rejected_with_the_reason() {
        let err = Profile::new(v(&[[0.1, 0.0], [0.5, 0.0], [0.0, 1.0]])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile: the ends [0.1, 0] and [0, 1] must lie on the axis (radius 0)"
        );
        let err = Profile::new(v(&[[0.0, 0.0], [0.0, 0.5], [0.0, 1.0]])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile: point [0, 0.5] between the ends has a radius ≤ 0"
        );
        let err = Profile::vessel(&v(&[[0.3, 0.0], [0.3, 0.1]]), 0.2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile: the lip at height 0.1 is not above the floor at 0.2"
        );
    }

    #[test]
    fn clockwise_profiles_are_reoriented() {
        let ccw = Profile::new(v(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])).unwrap();
        let cw = Profile::new(v(&[[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])).unwrap();
        assert_eq!(ccw, cw);
    }
}
