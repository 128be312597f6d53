//! Incremental construction of triangle meshes from rings, grids and parts.

use glam::Vec3;

use super::TriangleMesh;

/// Collects vertices and counter-clockwise (seen from outside) triangles, then builds a
/// [`TriangleMesh`].
#[derive(Clone, Debug, Default)]
pub(crate) struct MeshBuilder {
    /// Vertices so far.
    pub vertices: Vec<Vec3>,
    /// Triangles so far, as indices into `vertices`.
    pub triangles: Vec<[u32; 3]>,
}

impl MeshBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a vertex and returns its index.
    pub fn vertex(&mut self, p: Vec3) -> u32 {
        self.vertices.push(p);
        (self.vertices.len() - 1) as u32
    }

    /// Adds vertices and returns the index of the first.
    pub fn vertices(&mut self, ps: impl IntoIterator<Item = Vec3>) -> u32 {
        let first = self.vertices.len() as u32;
        self.vertices.extend(ps);
        first
    }

    /// Adds a triangle.
    pub fn triangle(&mut self, a: u32, b: u32, c: u32) {
        self.triangles.push([a, b, c]);
    }

    /// Adds the quad `a b c d` (counter-clockwise seen from outside) as two triangles.
    pub fn quad(&mut self, a: u32, b: u32, c: u32, d: u32) {
        self.triangles.push([a, b, c]);
        self.triangles.push([a, c, d]);
    }

    /// Stitches two closed rings of `n` vertices starting at `a` and `b`: the quads
    /// `a_j, b_j, b_{j+1}, a_{j+1}`, outward when `(b_j − a_j) × (a_{j+1} − a_j)` is.
    pub fn stitch_rings(&mut self, a: u32, b: u32, n: u32) {
        for j in 0..n {
            let k = (j + 1) % n;
            self.quad(a + j, b + j, b + k, a + k);
        }
    }

    /// Closes the ring of `n` vertices at `ring` with a fan to the vertex `apex`: triangles
    /// `apex, ring_j, ring_{j+1}`.
    pub fn fan(&mut self, apex: u32, ring: u32, n: u32) {
        for j in 0..n {
            self.triangle(apex, ring + j, ring + (j + 1) % n);
        }
    }

    /// Like [`MeshBuilder::fan`] with the opposite winding: triangles
    /// `apex, ring_{j+1}, ring_j`.
    pub fn fan_reversed(&mut self, apex: u32, ring: u32, n: u32) {
        for j in 0..n {
            self.triangle(apex, ring + (j + 1) % n, ring + j);
        }
    }

    /// Appends another builder's geometry (as a separate part of the same mesh).
    pub fn append(&mut self, other: &MeshBuilder) {
        let offset = self.vertices.len() as u32;
        self.vertices.extend_from_slice(&other.vertices);
        self.triangles
            .extend(other.triangles.iter().map(|t| t.map(|k| k + offset)));
    }

    /// Applies `f` to every vertex.
    pub fn map_vertices(&mut self, f: impl Fn(Vec3) -> Vec3) {
        for v in &mut self.vertices {
            *v = f(*v);
        }
    }

    /// The mesh, as built.
    ///
    /// # Panics
    /// If the geometry is invalid (an internal invariant of the procedural builders).
    pub fn build(self) -> TriangleMesh {
        TriangleMesh::new(self.vertices, self.triangles).expect("procedural mesh is valid")
    }

    /// The mesh, normalized (see [`TriangleMesh::new_normalized`]).
    ///
    /// # Panics
    /// If the geometry is invalid (an internal invariant of the procedural builders).
    pub fn build_normalized(self) -> TriangleMesh {
        TriangleMesh::new_normalized(self.vertices, self.triangles)
            .expect("procedural mesh is valid")
    }
}
