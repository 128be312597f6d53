//! Closed meshes of unit cubes glued face to face (the 3D-IQTT shapes).

use std::collections::{HashMap, HashSet};

use glam::IVec3;

use super::TriangleMesh;
use super::builder::MeshBuilder;

impl TriangleMesh {
    /// The closed, outward-wound surface of the union of unit cubes at integer `cells` (cell
    /// `[i, j, k]` fills `[i, i+1] × [j, j+1] × [k, k+1]`), with the faces between two cells
    /// removed, translated so that its bounding box is centred at the origin. Not rescaled: the
    /// cubes keep side 1, and the caller scales.
    ///
    /// Each exposed unit face is two triangles, so the mesh has `2·(6·cells − 2·shared faces)`
    /// triangles. Repeated cells count once.
    ///
    /// # Panics
    /// If `cells` is empty (an internal invariant of the 3D-IQTT generator).
    pub fn polycube(cells: &[[i32; 3]]) -> TriangleMesh {
        assert!(!cells.is_empty(), "a polycube needs at least one cell");
        let set: HashSet<IVec3> = cells.iter().map(|&c| IVec3::from(c)).collect();
        let (lo, hi) = set.iter().fold(
            (IVec3::splat(i32::MAX), IVec3::splat(i32::MIN)),
            |(lo, hi), &c| (lo.min(c), hi.max(c + 1)),
        );
        let centre = (lo + hi).as_vec3() * 0.5;
        let mut b = MeshBuilder::new();
        let mut corner_index: HashMap<IVec3, u32> = HashMap::new();
        let mut corner = |b: &mut MeshBuilder, p: IVec3| {
            *corner_index
                .entry(p)
                .or_insert_with(|| b.vertex(p.as_vec3() - centre))
        };
        // Iterate in a fixed order so that the mesh does not depend on the hash order.
        let mut sorted: Vec<IVec3> = set.iter().copied().collect();
        sorted.sort_by_key(|c| c.to_array());
        for &cell in &sorted {
            for axis in 0..3 {
                let e = IVec3::AXES[axis];
                let eb = IVec3::AXES[(axis + 1) % 3];
                let ec = IVec3::AXES[(axis + 2) % 3];
                for positive in [false, true] {
                    let neighbour = if positive { cell + e } else { cell - e };
                    if set.contains(&neighbour) {
                        continue;
                    }
                    let base = if positive { cell + e } else { cell };
                    // `eb × ec = e`: this order is counter-clockwise seen from +e.
                    let quad =
                        [base, base + eb, base + eb + ec, base + ec].map(|p| corner(&mut b, p));
                    if positive {
                        b.quad(quad[0], quad[1], quad[2], quad[3]);
                    } else {
                        b.quad(quad[0], quad[3], quad[2], quad[1]);
                    }
                }
            }
        }
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ray::Ray;
    use crate::shape::{Cuboid, Intersect};
    use crate::testutil::{check_shape_invariants, random_unit};
    use glam::Vec3;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const SNAKE: [[i32; 3]; 6] = [
        [0, 0, 0],
        [1, 0, 0],
        [1, 1, 0],
        [1, 1, 1],
        [2, 1, 1],
        [2, 1, 2],
    ];

    fn shared_faces(cells: &[[i32; 3]]) -> usize {
        let mut n = 0;
        for (i, a) in cells.iter().enumerate() {
            for b in &cells[i + 1..] {
                let d: i32 = (0..3).map(|k| (a[k] - b[k]).abs()).sum();
                n += usize::from(d == 1);
            }
        }
        n
    }

    #[test]
    fn face_count_is_six_per_cell_minus_two_per_shared_face() {
        let block: Vec<[i32; 3]> = (0..8)
            .map(|i| [i & 1, (i >> 1) & 1, (i >> 2) & 1])
            .collect();
        for cells in [
            &SNAKE[..],
            &SNAKE[..1],
            &block[..],
            &[[0, 0, 0], [0, 0, 1]][..],
        ] {
            let mesh = TriangleMesh::polycube(cells);
            let faces = 6 * cells.len() - 2 * shared_faces(cells);
            assert_eq!(mesh.triangles().len(), 2 * faces);
            assert!(mesh.is_closed());
        }
    }

    #[test]
    fn polycube_is_centred_and_unscaled() {
        let mesh = TriangleMesh::polycube(&SNAKE);
        let (min, max) = mesh.bounding_box();
        assert_eq!(min, Vec3::new(-1.5, -1.0, -1.5));
        assert_eq!(max, Vec3::new(1.5, 1.0, 1.5));
    }

    #[test]
    fn random_rays_satisfy_surface_invariants() {
        let mesh = TriangleMesh::polycube(&SNAKE);
        let offset = Vec3::new(1.5, 1.0, 1.5);
        let inside = |p: Vec3| {
            let q = (p + offset).floor().as_ivec3();
            SNAKE.contains(&q.to_array())
        };
        check_shape_invariants(&mesh, inside, 31);
    }

    #[test]
    fn two_by_two_block_matches_the_analytic_cuboid() {
        let block: Vec<[i32; 3]> = (0..8)
            .map(|i| [i & 1, (i >> 1) & 1, (i >> 2) & 1])
            .collect();
        let mesh = TriangleMesh::polycube(&block);
        let cuboid = Cuboid {
            half_extents: Vec3::ONE,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(32);
        for _ in 0..2000 {
            let origin = random_unit(&mut rng) * 4.0;
            let target = random_unit(&mut rng) * rng.random_range(0.0f32..1.5);
            let ray = Ray::new(origin, (target - origin).normalize());
            let a = mesh.intersect(&ray, 0.0, f32::INFINITY);
            let b = cuboid.intersect(&ray, 0.0, f32::INFINITY);
            match (a, b) {
                (Some(a), Some(b)) => {
                    assert!((a.t - b.t).abs() < 1e-5);
                    assert!((a.normal - b.normal).length() < 1e-5);
                }
                (None, None) => {}
                _ => panic!("polycube and cuboid disagree: {a:?} vs {b:?}"),
            }
        }
    }
}
