//! Triangle meshes with a BVH and exact Möller–Trumbore intersection.

use std::fmt;

use glam::{DVec3, Vec3};

use super::Intersect;
use super::bvh::{Aabb, Bvh};
use crate::error::{Error, Result};
use crate::ray::{Hit, Ray};

/// Barycentric slack at triangle edges, so that a ray through a shared edge of two triangles
/// never slips between them through rounding.
const EDGE_SLACK: f32 = 1e-6;

/// A triangle whose normal is this small relative to its longest edge squared is a needle or a
/// point, with no reliable normal, and is dropped.
const DEGENERATE: f32 = 1e-7;

/// A triangle mesh in its local frame, with a bounding-volume hierarchy for fast ray queries.
///
/// Triangles are wound counter-clockwise seen from outside, so that the geometric normal
/// `(b − a) × (c − a)` points outward on closed meshes. Open or inconsistently wound meshes
/// still trace correctly: the tracer turns normals toward the camera.
///
/// # Units and frames
/// Vertices are in the mesh's local frame; [`TriangleMesh::new_normalized`] centres the
/// bounding box at the origin and scales the largest extent to 1.
#[derive(Clone)]
pub struct TriangleMesh {
    vertices: Vec<Vec3>,
    triangles: Vec<[u32; 3]>,
    /// Triangles in BVH leaf order, ready for Möller–Trumbore.
    packed: Vec<PackedTriangle>,
    bvh: Bvh,
    bounding_radius: f32,
}

/// A triangle as its first vertex and two edges.
#[derive(Clone, Copy, Debug)]
struct PackedTriangle {
    v0: Vec3,
    e1: Vec3,
    e2: Vec3,
}

impl TriangleMesh {
    /// A mesh from vertices and counter-clockwise (seen from outside) vertex-index triples.
    ///
    /// Degenerate triangles (repeated vertices, or so thin that their normal is unreliable) are
    /// dropped, so [`TriangleMesh::triangles`] may be shorter than `triangles`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] if a vertex is not finite, an index is out of range, or no
    /// triangle with a nonzero area is left.
    pub fn new(vertices: Vec<Vec3>, triangles: Vec<[u32; 3]>) -> Result<Self> {
        let triangles = validate(&vertices, triangles)?;
        Ok(Self::from_valid(vertices, triangles))
    }

    /// Like [`TriangleMesh::new`], after moving the vertices so that the bounding box of the
    /// triangles' vertices is centred at the origin with its largest extent equal to 1.
    ///
    /// # Errors
    /// As [`TriangleMesh::new`].
    pub fn new_normalized(mut vertices: Vec<Vec3>, triangles: Vec<[u32; 3]>) -> Result<Self> {
        let triangles = validate(&vertices, triangles)?;
        let b = triangles
            .iter()
            .flatten()
            .fold(Aabb::EMPTY, |b, &k| b.grow(vertices[k as usize]));
        let centre = b.centre();
        let extent = (b.max - b.min).max_element();
        let scale = if extent > 0.0 { 1.0 / extent } else { 1.0 };
        for v in &mut vertices {
            *v = (*v - centre) * scale;
        }
        Ok(Self::from_valid(vertices, triangles))
    }

    /// Builds the BVH and packed triangles of a validated mesh.
    fn from_valid(vertices: Vec<Vec3>, triangles: Vec<[u32; 3]>) -> Self {
        let bounds: Vec<Aabb> = triangles
            .iter()
            .map(|t| {
                t.iter()
                    .fold(Aabb::EMPTY, |b, &k| b.grow(vertices[k as usize]))
            })
            .collect();
        let bvh = Bvh::build(&bounds);
        let packed = bvh
            .order()
            .iter()
            .map(|&i| {
                let [a, b, c] = triangles[i as usize].map(|k| vertices[k as usize]);
                PackedTriangle {
                    v0: a,
                    e1: b - a,
                    e2: c - a,
                }
            })
            .collect();
        let bounding_radius = triangles
            .iter()
            .flatten()
            .map(|&k| vertices[k as usize].length())
            .fold(0.0f32, f32::max);
        Self {
            vertices,
            triangles,
            packed,
            bvh,
            bounding_radius,
        }
    }

    /// The vertices, local frame.
    pub fn vertices(&self) -> &[Vec3] {
        &self.vertices
    }

    /// The triangles as counter-clockwise vertex-index triples (degenerate ones removed).
    pub fn triangles(&self) -> &[[u32; 3]] {
        &self.triangles
    }

    /// The axis-aligned bounding box of the triangles, as `(min, max)` corners, local frame.
    pub fn bounding_box(&self) -> (Vec3, Vec3) {
        let b = self.bounds();
        (b.min, b.max)
    }

    fn bounds(&self) -> Aabb {
        self.bvh.bounds()
    }

    /// Whether the mesh is closed and consistently wound: every directed edge (vertices
    /// compared by position) appears exactly once, and so does its reverse.
    #[cfg(test)]
    pub(crate) fn is_closed(&self) -> bool {
        use std::collections::HashMap;
        let key = |k: u32| self.vertices[k as usize].to_array().map(f32::to_bits);
        let mut edges: HashMap<([u32; 3], [u32; 3]), u32> = HashMap::new();
        for t in &self.triangles {
            for i in 0..3 {
                *edges.entry((key(t[i]), key(t[(i + 1) % 3]))).or_default() += 1;
            }
        }
        edges
            .iter()
            .all(|((a, b), &n)| n == 1 && edges.get(&(*b, *a)) == Some(&1))
    }

    /// Reference intersection: Möller–Trumbore in f64 against every triangle, without the BVH.
    /// Slow; it is what the fast path is tested and benchmarked against.
    ///
    /// # Units and frames
    /// As [`Intersect::intersect`].
    pub fn intersect_brute_force(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let o = ray.origin.as_dvec3();
        let d = ray.dir.as_dvec3();
        let mut best: Option<(f64, DVec3)> = None;
        for t in &self.triangles {
            let [a, b, c] = t.map(|k| self.vertices[k as usize].as_dvec3());
            let (e1, e2) = (b - a, c - a);
            let p = d.cross(e2);
            let det = e1.dot(p);
            if det == 0.0 {
                continue;
            }
            let s = o - a;
            let u = s.dot(p) / det;
            let q = s.cross(e1);
            let v = d.dot(q) / det;
            if u < 0.0 || v < 0.0 || u + v > 1.0 {
                continue;
            }
            let t = e2.dot(q) / det;
            if t > t_min as f64 && t < t_max as f64 && best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, e1.cross(e2).normalize()));
            }
        }
        best.map(|(t, n)| Hit {
            t: t as f32,
            normal: n.as_vec3(),
        })
    }
}

/// Checks vertices and indices, and drops degenerate triangles.
fn validate(vertices: &[Vec3], triangles: Vec<[u32; 3]>) -> Result<Vec<[u32; 3]>> {
    let invalid = |message: String| Error::InvalidValue {
        field: "mesh".to_string(),
        message,
    };
    if let Some(i) = vertices.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!(
            "vertex {i} is not finite ({})",
            vertices[i]
        )));
    }
    let n = vertices.len();
    if let Some((i, t)) = triangles
        .iter()
        .enumerate()
        .find(|(_, t)| t.iter().any(|&k| k as usize >= n))
    {
        return Err(invalid(format!(
            "triangle {i} has vertex indices {t:?}, but the mesh has {n} vertices"
        )));
    }
    let triangles: Vec<[u32; 3]> = triangles
        .into_iter()
        .filter(|t| !is_degenerate(vertices, t))
        .collect();
    if triangles.is_empty() {
        return Err(invalid("no triangle with a nonzero area".to_string()));
    }
    Ok(triangles)
}

/// Whether a triangle has no reliable normal.
fn is_degenerate(vertices: &[Vec3], t: &[u32; 3]) -> bool {
    if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
        return true;
    }
    let [a, b, c] = t.map(|k| vertices[k as usize]);
    let longest = (b - a)
        .length_squared()
        .max((c - b).length_squared())
        .max((a - c).length_squared());
    let n = (b - a).cross(c - a).length();
    n.is_nan() || n <= DEGENERATE * longest
}

impl Intersect for TriangleMesh {
    #[inline]
    fn intersect(&self, ray: &Ray, t_min: f32, t_max: f32) -> Option<Hit> {
        let origin = ray.origin;
        let dir = ray.dir;
        let tris = &self.packed[..];
        let mut best = usize::MAX;
        let mut t_best = t_max;
        self.bvh
            .traverse(origin, dir.recip(), t_min, &mut t_best, |range, t_best| {
                for i in range {
                    let tri = &tris[i];
                    let p = dir.cross(tri.e2);
                    let det = tri.e1.dot(p);
                    let inv_det = 1.0 / det;
                    let s = origin - tri.v0;
                    let u = s.dot(p) * inv_det;
                    if !(-EDGE_SLACK..=1.0 + EDGE_SLACK).contains(&u) {
                        continue;
                    }
                    let q = s.cross(tri.e1);
                    let v = dir.dot(q) * inv_det;
                    if !(v >= -EDGE_SLACK && u + v <= 1.0 + EDGE_SLACK) {
                        continue;
                    }
                    let t = tri.e2.dot(q) * inv_det;
                    if t > t_min && t < *t_best {
                        *t_best = t;
                        best = i;
                    }
                }
            });
        if best == usize::MAX {
            return None;
        }
        let tri = &tris[best];
        Some(Hit {
            t: t_best,
            normal: tri.e1.cross(tri.e2).normalize(),
        })
    }

    fn bounding_radius(&self) -> f32 {
        self.bounding_radius
    }

    fn min_y(&self) -> f32 {
        self.bounds().min.y
    }
}

impl fmt::Debug for TriangleMesh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = self.bounding_box();
        f.debug_struct("TriangleMesh")
            .field("vertices", &self.vertices.len())
            .field("triangles", &self.triangles.len())
            .field("min", &min)
            .field("max", &max)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Cuboid;
    use crate::testutil::{check_shape_invariants, random_unit};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The box `[-h, h]` as 12 outward-wound triangles.
    fn box_mesh(h: Vec3) -> TriangleMesh {
        let vertices: Vec<Vec3> = (0..8)
            .map(|i| {
                Vec3::new(
                    if i & 1 == 0 { -h.x } else { h.x },
                    if i & 2 == 0 { -h.y } else { h.y },
                    if i & 4 == 0 { -h.z } else { h.z },
                )
            })
            .collect();
        // Each face as a quad, counter-clockwise seen from outside.
        let quads = [
            [0, 4, 6, 2], // -x
            [1, 3, 7, 5], // +x
            [0, 1, 5, 4], // -y
            [2, 6, 7, 3], // +y
            [0, 2, 3, 1], // -z
            [4, 5, 7, 6], // +z
        ];
        let triangles = quads
            .iter()
            .flat_map(|[a, b, c, d]| [[*a, *b, *c], [*a, *c, *d]])
            .collect();
        TriangleMesh::new(vertices, triangles).unwrap()
    }

    /// A closed random blob: a sphere tessellation with a bumpy radius.
    fn blob(seed: u64) -> TriangleMesh {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (rows, cols) = (40usize, 80usize);
        let bumps: Vec<f32> = (0..6).map(|_| rng.random_range(0.0..6.0)).collect();
        let radius = |theta: f32, phi: f32| {
            1.0 + 0.15 * (bumps[0] * theta + bumps[1]).sin() * (bumps[2] * phi).cos()
        };
        let mut vertices = vec![Vec3::new(0.0, radius(0.0, 0.0), 0.0)];
        for i in 1..rows {
            let theta = std::f32::consts::PI * i as f32 / rows as f32;
            for j in 0..cols {
                let phi = std::f32::consts::TAU * j as f32 / cols as f32;
                let r = radius(theta, phi);
                vertices.push(
                    Vec3::new(
                        theta.sin() * phi.cos(),
                        theta.cos(),
                        -theta.sin() * phi.sin(),
                    ) * r,
                );
            }
        }
        vertices.push(Vec3::new(0.0, -radius(std::f32::consts::PI, 0.0), 0.0));
        let ring = |i: usize, j: usize| (1 + (i - 1) * cols + j % cols) as u32;
        let bottom = vertices.len() as u32 - 1;
        let mut triangles = Vec::new();
        for j in 0..cols {
            triangles.push([0, ring(1, j), ring(1, j + 1)]);
            triangles.push([bottom, ring(rows - 1, j + 1), ring(rows - 1, j)]);
        }
        for i in 1..rows - 1 {
            for j in 0..cols {
                triangles.push([ring(i, j), ring(i + 1, j), ring(i + 1, j + 1)]);
                triangles.push([ring(i, j), ring(i + 1, j + 1), ring(i, j + 1)]);
            }
        }
        TriangleMesh::new(vertices, triangles).unwrap()
    }

    #[test]
    fn box_mesh_matches_the_analytic_cuboid_on_random_rays() {
        let h = Vec3::new(0.3, 0.5, 0.7);
        let mesh = box_mesh(h);
        let cuboid = Cuboid { half_extents: h };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut hits = 0;
        for _ in 0..5000 {
            let origin = random_unit(&mut rng) * 3.0;
            let target = random_unit(&mut rng) * rng.random_range(0.0f32..1.0);
            let ray = Ray::new(origin, (target - origin).normalize());
            let a = mesh.intersect(&ray, 0.0, f32::INFINITY);
            let b = cuboid.intersect(&ray, 0.0, f32::INFINITY);
            match (a, b) {
                (Some(a), Some(b)) => {
                    hits += 1;
                    assert!((a.t - b.t).abs() < 1e-5, "t {} vs {}", a.t, b.t);
                    assert!((a.normal - b.normal).length() < 1e-5);
                }
                (None, None) => {}
                _ => panic!("mesh and cuboid disagree on {ray:?}: {a:?} vs {b:?}"),
            }
        }
        assert!(hits > 1000);
        // From inside, the exit face with its outward normal, as for the cuboid.
        let ray = Ray::new(Vec3::new(0.05, 0.1, -0.05), Vec3::Z);
        let hit = mesh.intersect(&ray, 0.0, f32::INFINITY).unwrap();
        assert!((hit.t - 0.75).abs() < 1e-6);
        assert_eq!(hit.normal, Vec3::Z);
    }

    #[test]
    fn bvh_nearest_hit_matches_brute_force() {
        for seed in 0..3 {
            let mesh = blob(seed);
            let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
            let mut hits = 0;
            for _ in 0..3000 {
                let origin = random_unit(&mut rng) * rng.random_range(0.0f32..4.0);
                let dir = random_unit(&mut rng);
                let ray = Ray::new(origin, dir);
                let t_max = rng.random_range(0.5f32..8.0);
                let a = mesh.intersect(&ray, 0.0, t_max);
                let b = mesh.intersect_brute_force(&ray, 0.0, t_max);
                match (a, b) {
                    (Some(a), Some(b)) => {
                        hits += 1;
                        assert!((a.t - b.t).abs() < 1e-5, "t {} vs {}", a.t, b.t);
                        assert!((a.normal - b.normal).length() < 1e-4);
                        assert!((a.normal.length() - 1.0).abs() < 1e-5);
                    }
                    (None, None) => {}
                    _ => panic!("BVH and brute force disagree: {a:?} vs {b:?}"),
                }
            }
            assert!(hits > 500, "{hits}");
        }
    }

    #[test]
    fn closed_blob_satisfies_surface_invariants() {
        let mesh = blob(7);
        // Inside test by parity: a point is inside a closed mesh iff a ray from it crosses the
        // surface an odd number of times (a different question from the nearest hit).
        let inside = |p: Vec3| {
            let dir = Vec3::new(0.267, 0.534, 0.802).normalize();
            let mut count = 0;
            let mut t = 0.0;
            while let Some(h) = mesh.intersect(&Ray::new(p, dir), t, f32::INFINITY) {
                count += 1;
                t = h.t + 1e-6;
            }
            count % 2 == 1
        };
        check_shape_invariants(&mesh, inside, 3);
    }

    #[test]
    fn normalization_centres_the_box_and_scales_the_largest_extent_to_one() {
        let mesh = box_mesh(Vec3::new(1.0, 2.0, 3.0));
        let shifted: Vec<Vec3> = mesh
            .vertices()
            .iter()
            .map(|v| *v + Vec3::new(5.0, -1.0, 2.0))
            .collect();
        let n = TriangleMesh::new_normalized(shifted, mesh.triangles().to_vec()).unwrap();
        let (min, max) = n.bounding_box();
        assert!((min + max).length() < 1e-6);
        assert!(((max - min) - Vec3::new(1.0 / 3.0, 2.0 / 3.0, 1.0)).length() < 1e-6);
        assert!((n.min_y() + 1.0 / 3.0).abs() < 1e-6);
        assert!((n.bounding_radius() - (max - min).length() / 2.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_triangles_are_dropped_and_bad_input_is_rejected() {
        let v = vec![Vec3::ZERO, Vec3::X, Vec3::Y, Vec3::X * 2.0];
        let mesh = TriangleMesh::new(v.clone(), vec![[0, 1, 2], [0, 1, 3], [1, 1, 2]]).unwrap();
        assert_eq!(mesh.triangles(), &[[0, 1, 2]]);
        let err = TriangleMesh::new(v.clone(), vec![[0, 1, 4]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mesh: triangle 0 has vertex indices [0, 1, 4], but the mesh has 4 vertices"
        );
        let err = TriangleMesh::new(v.clone(), vec![[0, 1, 3]]).unwrap_err();
        assert_eq!(err.to_string(), "mesh: no triangle with a nonzero area");
        let err = TriangleMesh::new(vec![Vec3::NAN], vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mesh: vertex 0 is not finite ([NaN, NaN, NaN])"
        );
    }
}
