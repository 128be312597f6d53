//! Procedural "ShapeNet-like" objects: bowls, bottles, mugs, cans, caps and bags.
//!
//! These stand in for the ShapeNet categories of the paper (Section 4.3), which cannot be
//! redistributed; users with a local ShapeNet copy load it with
//! [`load_objects_dir`](crate::load_objects_dir) instead.

use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};

use glam::{Vec2, Vec3};
use rand::Rng;

use super::TriangleMesh;
use super::builder::MeshBuilder;
use super::revolve::Profile;
use super::tube::Tube;

/// Segments around the axis of revolved parts.
const SEGMENTS: usize = 48;
/// Sides of the cross-section of handles and straps.
const TUBE_SIDES: usize = 12;

/// A class of procedural objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A hollow, roughly hemispherical shell on a flat base.
    Bowl,
    /// A solid bottle: body, shoulder, neck and lip.
    Bottle,
    /// A hollow cylinder with a D-shaped handle.
    Mug,
    /// A closed cylinder with a recessed base, a rimmed lid and optional beads.
    Can,
    /// A baseball cap: a spherical dome and a flat brim.
    Cap,
    /// A tote bag: a rounded box body with two carrying straps.
    Bag,
}

impl Category {
    /// Every category, in class-index order.
    pub const ALL: [Category; 6] = [
        Category::Bowl,
        Category::Bottle,
        Category::Mug,
        Category::Can,
        Category::Cap,
        Category::Bag,
    ];

    /// The lowercase name (`"bowl"`, `"bottle"`, …), as used in datasets and flags.
    pub fn name(&self) -> &'static str {
        match self {
            Category::Bowl => "bowl",
            Category::Bottle => "bottle",
            Category::Mug => "mug",
            Category::Can => "can",
            Category::Cap => "cap",
            Category::Bag => "bag",
        }
    }

    /// A random instance: a closed, outward-wound mesh standing upright (+y up, resting on its
    /// lowest point), normalized (see [`TriangleMesh::new_normalized`]). The proportions vary
    /// with `rng`; the same rng state gives the same mesh.
    pub fn build(&self, rng: &mut impl Rng) -> TriangleMesh {
        let mut b = MeshBuilder::new();
        match self {
            Category::Bowl => bowl(&mut b, rng),
            Category::Bottle => bottle(&mut b, rng),
            Category::Mug => mug(&mut b, rng),
            Category::Can => can(&mut b, rng),
            Category::Cap => cap(&mut b, rng),
            Category::Bag => bag(&mut b, rng),
        }
        b.build_normalized()
    }
}

/// Radius 1; a flat base blending into an elliptical wall that ends vertical at the lip.
fn bowl(b: &mut MeshBuilder, rng: &mut impl Rng) {
    let depth = rng.random_range(0.45..0.75);
    let base = rng.random_range(0.3..0.5);
    let thickness = rng.random_range(0.03..0.06);
    let exponent = rng.random_range(0.8..1.3);
    let outer: Vec<Vec2> = (0..=24)
        .map(|k| {
            let a = FRAC_PI_2 * k as f32 / 24.0;
            Vec2::new(
                base + (1.0 - base) * a.sin(),
                depth * (1.0 - a.cos()).powf(exponent),
            )
        })
        .collect();
    revolve(b, Profile::vessel(&outer, thickness));
}

/// Body radius 1; body, a cosine shoulder, a straight neck and a lip ring.
fn bottle(b: &mut MeshBuilder, rng: &mut impl Rng) {
    let body = rng.random_range(1.6..2.8);
    let shoulder = rng.random_range(0.4..1.0);
    let neck_r = rng.random_range(0.25..0.42);
    let neck = rng.random_range(0.5..1.1);
    let lip_r = neck_r * rng.random_range(1.08..1.25);
    let mut outline = vec![
        Vec2::new(0.9, 0.0),
        Vec2::new(0.97, 0.02),
        Vec2::new(1.0, 0.08),
        Vec2::new(1.0, body),
    ];
    outline.extend((1..=12).map(|k| {
        let t = k as f32 / 12.0;
        Vec2::new(
            neck_r + (1.0 - neck_r) * 0.5 * (1.0 + (PI * t).cos()),
            body + shoulder * t,
        )
    }));
    let top = body + shoulder + neck;
    outline.extend([
        Vec2::new(neck_r, top - 0.14),
        Vec2::new(lip_r, top - 0.12),
        Vec2::new(lip_r, top - 0.02),
        Vec2::new(lip_r - 0.02, top),
    ]);
    revolve(b, Profile::solid(&outline));
}

/// Radius 1; a straight, slightly tapered hollow cylinder and a D-shaped handle on +x.
fn mug(b: &mut MeshBuilder, rng: &mut impl Rng) {
    let height = rng.random_range(1.6..2.4);
    let top_r = rng.random_range(0.92..1.08);
    let thickness = rng.random_range(0.06..0.1);
    let outer: Vec<Vec2> = (0..=4)
        .map(|k| {
            let t = k as f32 / 4.0;
            Vec2::new(1.0 + (top_r - 1.0) * t, height * t)
        })
        .collect();
    revolve(b, Profile::vessel(&outer, thickness));
    // The handle leaves the middle of the wall horizontally, bends round a half circle and
    // returns, so its end caps are buried in the wall.
    let wall_mid = |y: f32| 1.0 + (top_r - 1.0) * y / height - thickness * 0.5;
    let half_h = height * rng.random_range(0.26..0.34);
    let cy = height * rng.random_range(0.48..0.56);
    let cx = 1.0f32.max(top_r) + rng.random_range(0.1..0.3);
    let mut path: Vec<Vec3> = Vec::new();
    let straight = |from: f32, to: f32, y: f32| {
        (0..4).map(move |k| Vec3::new(from + (to - from) * k as f32 / 4.0, y, 0.0))
    };
    path.extend(straight(wall_mid(cy + half_h), cx, cy + half_h));
    path.extend((0..=24).map(|k| {
        let a = FRAC_PI_2 - PI * k as f32 / 24.0;
        Vec3::new(cx + half_h * a.cos(), cy + half_h * a.sin(), 0.0)
    }));
    let mut back: Vec<Vec3> = straight(wall_mid(cy - half_h), cx, cy - half_h).collect();
    back.reverse();
    path.extend(back);
    let tube = Tube {
        path,
        plane_normal: Vec3::Z,
        half_width: rng.random_range(0.08..0.13),
        half_thickness: rng.random_range(0.045..0.065),
    };
    tube.add_to(b, TUBE_SIDES);
}

/// Radius 1; a recessed base with a chamfer, straight (optionally beaded) wall, a necked top
/// with a raised rim, and a recessed lid.
fn can(b: &mut MeshBuilder, rng: &mut impl Rng) {
    let height = 2.0 * rng.random_range(0.9..1.9);
    let beads = if rng.random::<f32>() < 0.5 {
        0
    } else {
        rng.random_range(3..7)
    };
    let mut p = vec![
        Vec2::new(0.0, 0.04),
        Vec2::new(0.82, 0.04),
        Vec2::new(0.86, 0.0),
        Vec2::new(0.94, 0.0),
        Vec2::new(1.0, 0.07),
    ];
    let (wall_lo, wall_hi) = (0.15, height - 0.2);
    p.push(Vec2::new(1.0, wall_lo));
    if beads > 0 {
        let steps = 12 * beads;
        p.extend((1..steps).map(|k| {
            let t = k as f32 / steps as f32;
            let dent = 0.5 * (1.0 - (2.0 * PI * beads as f32 * t).cos());
            Vec2::new(1.0 - 0.02 * dent, wall_lo + (wall_hi - wall_lo) * t)
        }));
    }
    p.extend([
        Vec2::new(1.0, wall_hi),
        Vec2::new(0.93, height - 0.06),
        Vec2::new(0.93, height),
        Vec2::new(0.88, height),
        Vec2::new(0.87, height - 0.03),
        Vec2::new(0.0, height - 0.03),
    ]);
    revolve(b, Profile::new(p));
}

/// Dome radius 1 resting on the floor, with a flat brim toward +z.
fn cap(b: &mut MeshBuilder, rng: &mut impl Rng) {
    let dome_h = rng.random_range(0.65..0.85);
    let mut p = vec![Vec2::new(0.0, 0.0)];
    p.extend((0..20).map(|k| {
        let a = FRAC_PI_2 * k as f32 / 20.0;
        Vec2::new(a.cos(), dome_h * a.sin())
    }));
    p.push(Vec2::new(0.0, dome_h));
    revolve(b, Profile::new(p));
    // A small button on top of the crown.
    let button = rng.random_range(0.05..0.08);
    let mut q = vec![Vec2::new(0.0, dome_h - button)];
    q.extend((1..8).map(|k| {
        let a = -FRAC_PI_2 + PI * k as f32 / 8.0;
        Vec2::new(button * a.cos(), dome_h + button * a.sin())
    }));
    q.push(Vec2::new(0.0, dome_h + button));
    let mut button_part = MeshBuilder::new();
    revolve(&mut button_part, Profile::new(q));
    b.append(&button_part);
    // The brim: between an arc just inside the dome and a rounded bill in front of it.
    let thickness = rng.random_range(0.03..0.05);
    let length = rng.random_range(0.5..0.8);
    let half_angle = rng.random_range(1.0..1.35f32);
    let k_max = 24;
    let inner: Vec<Vec2> = (0..=k_max)
        .map(|k| {
            let s = 2.0 * k as f32 / k_max as f32 - 1.0;
            Vec2::new((s * half_angle).sin(), (s * half_angle).cos()) * 0.85
        })
        .collect();
    let outer: Vec<Vec2> = (0..=k_max)
        .map(|k| {
            let s = 2.0 * k as f32 / k_max as f32 - 1.0;
            Vec2::new((s * half_angle).sin(), (s * half_angle).cos()) * 0.97
                + Vec2::new(0.0, length * (s * FRAC_PI_2).cos())
        })
        .collect();
    slab(b, &inner, &outer, 0.0, thickness);
}

/// A tote: a rounded box body, wider at the bottom, with two arched straps.
fn bag(b: &mut MeshBuilder, rng: &mut impl Rng) {
    let half = Vec3::new(
        1.0,
        rng.random_range(0.65..1.0),
        rng.random_range(0.3..0.45),
    );
    let radius = half.z * rng.random_range(0.3..0.6);
    let taper = rng.random_range(0.0..0.2);
    let mut body = MeshBuilder::new();
    rounded_box(&mut body, half, radius, 5, 6);
    body.map_vertices(|v| {
        let t = (v.y + half.y) / (2.0 * half.y);
        Vec3::new(v.x * (1.0 - taper * t), v.y + half.y, v.z)
    });
    b.append(&body);
    let top = 2.0 * half.y;
    let reach = rng.random_range(0.35..0.6);
    let rise = half.y * rng.random_range(0.5..0.9);
    let embed = 0.06;
    for z in [-0.45 * half.z, 0.45 * half.z] {
        let path = (0..=32)
            .map(|k| {
                let a = PI * k as f32 / 32.0;
                Vec3::new(reach * a.cos(), top - embed + (rise + embed) * a.sin(), z)
            })
            .collect();
        let strap = Tube {
            path,
            plane_normal: Vec3::Z,
            half_width: 0.06,
            half_thickness: 0.025,
        };
        strap.add_to(b, TUBE_SIDES);
    }
}

/// Revolves a profile built from constants into `b`.
///
/// # Panics
/// If the profile is invalid (a bug in the category's constants).
fn revolve(b: &mut MeshBuilder, profile: crate::error::Result<Profile>) {
    profile
        .expect("category profile is valid")
        .revolve_into(b, SEGMENTS);
}

/// A closed slab `y0 ≤ y ≤ y1` between two polylines in the xz plane (given as `(x, z)`),
/// `inner` and `outer`, of the same length; the region between them is the strip of quads
/// `inner_k, outer_k, outer_{k+1}, inner_{k+1}`.
fn slab(b: &mut MeshBuilder, inner: &[Vec2], outer: &[Vec2], y0: f32, y1: f32) {
    let n = inner.len();
    let at = |p: Vec2, y: f32| Vec3::new(p.x, y, p.y);
    let ib = b.vertices(inner.iter().map(|&p| at(p, y0)));
    let ob = b.vertices(outer.iter().map(|&p| at(p, y0)));
    let it = b.vertices(inner.iter().map(|&p| at(p, y1)));
    let ot = b.vertices(outer.iter().map(|&p| at(p, y1)));
    for k in 0..n as u32 - 1 {
        let j = k + 1;
        let mid_dir = |a: u32, c: u32| {
            let d = b.vertices[c as usize] - b.vertices[a as usize];
            Vec3::new(d.x, 0.0, d.z)
        };
        let out = mid_dir(ib + k, ob + k);
        oriented_quad(b, [it + k, ot + k, ot + j, it + j], Vec3::Y);
        oriented_quad(b, [ib + k, ob + k, ob + j, ib + j], -Vec3::Y);
        oriented_quad(b, [ob + k, ob + j, ot + j, ot + k], out);
        oriented_quad(b, [ib + k, ib + j, it + j, it + k], -out);
    }
    let last = n as u32 - 1;
    let along = |k: u32, j: u32| b.vertices[(ib + j) as usize] - b.vertices[(ib + k) as usize];
    let start_out = -along(0, 1);
    let end_out = along(last - 1, last);
    oriented_quad(b, [ib, ob, ot, it], start_out);
    oriented_quad(b, [ib + last, ob + last, ot + last, it + last], end_out);
}

/// Adds the planar quad `q` wound so that its normal points along `outward`.
fn oriented_quad(b: &mut MeshBuilder, q: [u32; 4], outward: Vec3) {
    let [p0, p1, p2] = [q[0], q[1], q[2]].map(|k| b.vertices[k as usize]);
    if (p1 - p0).cross(p2 - p0).dot(outward) >= 0.0 {
        b.quad(q[0], q[1], q[2], q[3]);
    } else {
        b.quad(q[0], q[3], q[2], q[1]);
    }
}

/// A box with half extents `half` and edges rounded with `radius`, centred at the origin:
/// each face is a grid, with `round` rows across each rounded edge and `flat` across the flat
/// middle.
fn rounded_box(b: &mut MeshBuilder, half: Vec3, radius: f32, round: usize, flat: usize) {
    // Grid coordinates along one axis: uniform in angle over each rounded zone.
    let coords = |e: f32| -> Vec<f32> {
        let c = e - radius;
        let mut side: Vec<f32> = (0..round)
            .map(|k| c + radius * (FRAC_PI_4 * k as f32 / round as f32).tan())
            .collect();
        side.push(e);
        let mut all: Vec<f32> = side.iter().rev().map(|x| -x).collect();
        all.extend((1..flat).map(|k| -c + 2.0 * c * k as f32 / flat as f32));
        all.extend(side);
        all
    };
    let axes = [coords(half.x), coords(half.y), coords(half.z)];
    let core = half - Vec3::splat(radius);
    let round_point = |s: Vec3| {
        let inner = s.clamp(-core, core);
        inner + (s - inner).normalize() * radius
    };
    for axis in 0..3 {
        let (ab, ac) = ((axis + 1) % 3, (axis + 2) % 3);
        for sign in [-1.0f32, 1.0] {
            let (cb, cc) = (&axes[ab], &axes[ac]);
            let first = b.vertices(cb.iter().flat_map(|&u| {
                cc.iter().map(move |&v| {
                    let mut s = Vec3::ZERO;
                    s[axis] = sign * half[axis];
                    s[ab] = u;
                    s[ac] = v;
                    round_point(s)
                })
            }));
            let w = cc.len() as u32;
            let at = |i: usize, j: usize| first + i as u32 * w + j as u32;
            for i in 0..cb.len() - 1 {
                for j in 0..cc.len() - 1 {
                    // `e_b × e_c = e_axis`, so this order faces +axis.
                    let q = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
                    if sign > 0.0 {
                        b.quad(q[0], q[1], q[2], q[3]);
                    } else {
                        b.quad(q[0], q[3], q[2], q[1]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ray::Ray;
    use crate::shape::Intersect;
    use crate::testutil::random_unit;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Bounding-box extents of a built instance.
    fn extents(mesh: &TriangleMesh) -> Vec3 {
        let (min, max) = mesh.bounding_box();
        max - min
    }

    #[test]
    fn every_category_builds_closed_normalized_outward_meshes() {
        for (c, category) in Category::ALL.iter().enumerate() {
            for seed in 0..4 {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mesh = category.build(&mut rng);
                assert!(mesh.is_closed(), "{} {seed} is not closed", category.name());
                let (min, max) = mesh.bounding_box();
                assert!((min + max).length() < 1e-5);
                assert!(((max - min).max_element() - 1.0).abs() < 1e-5);
                // Every first hit from outside is on an outward-facing triangle (the parts are
                // closed, so the first surface a ray meets is where it enters the union).
                let mut rng = ChaCha8Rng::seed_from_u64(1000 + c as u64);
                let r = mesh.bounding_radius();
                let mut hits = 0;
                for _ in 0..2000 {
                    let origin = random_unit(&mut rng) * 3.0 * r;
                    let target = random_unit(&mut rng) * r * 0.5;
                    let ray = Ray::new(origin, (target - origin).normalize());
                    if let Some(h) = mesh.intersect(&ray, 0.0, f32::INFINITY) {
                        hits += 1;
                        assert!(
                            h.normal.dot(ray.dir) < 0.0,
                            "{} {seed}: inward normal at {}",
                            category.name(),
                            ray.at(h.t)
                        );
                    }
                }
                assert!(hits > 300, "{} {seed}: {hits} hits", category.name());
            }
        }
    }

    #[test]
    fn proportions_fit_each_category() {
        for seed in 0..8 {
            let build = |c: Category| extents(&c.build(&mut ChaCha8Rng::seed_from_u64(seed)));
            // Revolved parts are round seen from above.
            for c in [Category::Bowl, Category::Bottle, Category::Can] {
                let e = build(c);
                assert!((e.x - e.z).abs() < 1e-2, "{} {e}", c.name());
            }
            let bowl = build(Category::Bowl);
            assert!(bowl.y < 0.4 * bowl.x, "bowl {bowl}");
            let bottle = build(Category::Bottle);
            assert!(bottle.y > 1.2 * bottle.x, "bottle {bottle}");
            let can = build(Category::Can);
            assert!(can.y > 0.85 * can.x, "can {can}");
            let mug = build(Category::Mug);
            assert!(mug.x > 1.1 * mug.z, "mug handle sticks out along x: {mug}");
            let cap = build(Category::Cap);
            assert!(cap.z > 1.2 * cap.x && cap.y < 0.6 * cap.x, "cap {cap}");
            let bag = build(Category::Bag);
            assert!(bag.z < 0.5 * bag.x, "bag {bag}");
        }
    }

    #[test]
    fn builds_are_deterministic_and_vary_with_the_rng() {
        for category in Category::ALL {
            let a = category.build(&mut ChaCha8Rng::seed_from_u64(5));
            let b = category.build(&mut ChaCha8Rng::seed_from_u64(5));
            let c = category.build(&mut ChaCha8Rng::seed_from_u64(6));
            assert_eq!(a.vertices(), b.vertices());
            assert_eq!(a.triangles(), b.triangles());
            assert_ne!(a.vertices(), c.vertices(), "{}", category.name());
        }
    }

    #[test]
    fn names_are_distinct_and_lowercase() {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["bowl", "bottle", "mug", "can", "cap", "bag"]);
    }
}
