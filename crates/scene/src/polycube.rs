//! "Snake" polycubes for 3D-IQTT: Shepard–Metzler-like chains of unit cubes, compared up to
//! translation and the 24 proper rotations.

use std::collections::BTreeSet;

use rand::Rng;

/// Integer cell coordinates of one unit cube.
pub type Cell = [i32; 3];

/// A set of unit cubes in canonical form: translated so the minimum corner is at the origin,
/// rotated to the lexicographically smallest of its 24 rotations, cells sorted. Two polycubes are
/// the same shape up to rotation and translation exactly when their canonical forms are equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Polycube {
    cells: Vec<Cell>,
}

/// The 24 proper rotations of the cube as signed permutation matrices (determinant +1).
pub fn cube_rotations() -> Vec<[[i32; 3]; 3]> {
    let mut out = Vec::with_capacity(24);
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for p in perms {
        for signs in 0..8 {
            let mut m = [[0; 3]; 3];
            for (row, &col) in p.iter().enumerate() {
                m[row][col] = if signs >> row & 1 == 1 { -1 } else { 1 };
            }
            if det3(&m) == 1 {
                out.push(m);
            }
        }
    }
    out
}

fn det3(m: &[[i32; 3]; 3]) -> i32 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn apply(m: &[[i32; 3]; 3], c: Cell) -> Cell {
    [0, 1, 2].map(|r| m[r][0] * c[0] + m[r][1] * c[1] + m[r][2] * c[2])
}

/// Translates cells so their minimum corner is the origin, then sorts them.
fn normalized(mut cells: Vec<Cell>) -> Vec<Cell> {
    let mut lo = [i32::MAX; 3];
    for c in &cells {
        for k in 0..3 {
            lo[k] = lo[k].min(c[k]);
        }
    }
    for c in &mut cells {
        for k in 0..3 {
            c[k] -= lo[k];
        }
    }
    cells.sort_unstable();
    cells
}

impl Polycube {
    /// The canonical form of a set of distinct cells.
    ///
    /// # Panics
    /// If `cells` is empty.
    pub fn new(cells: &[Cell]) -> Self {
        assert!(!cells.is_empty(), "a polycube needs at least one cell");
        let best = cube_rotations()
            .iter()
            .map(|m| normalized(cells.iter().map(|&c| apply(m, c)).collect()))
            .min()
            .expect("24 rotations");
        Self { cells: best }
    }

    /// The cells, canonical order.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The sides of the shape's bounding box in cubes, ascending (the same for every rotation
    /// and for the mirror image).
    pub fn extent(&self) -> [i32; 3] {
        let mut hi = [0; 3];
        for c in &self.cells {
            for k in 0..3 {
                hi[k] = hi[k].max(c[k] + 1);
            }
        }
        hi.sort_unstable();
        hi
    }

    /// The mirror image (x ↦ −x), in canonical form.
    pub fn mirrored(&self) -> Polycube {
        let cells: Vec<Cell> = self.cells.iter().map(|c| [-c[0], c[1], c[2]]).collect();
        Polycube::new(&cells)
    }

    /// Whether the shape equals its own mirror image up to rotation (then a mirror distractor
    /// would be a correct answer).
    pub fn is_achiral(&self) -> bool {
        self.mirrored() == *self
    }

    /// Draws a snake: a chain of straight runs of 2 to 7 cubes joined at right angles, with
    /// `count` cubes in all, no cube touching a non-neighbouring cube of the chain by a face.
    /// Returns `None` when the random walk boxes itself in (the caller draws again).
    pub fn random_snake(rng: &mut impl Rng, count: usize) -> Option<Polycube> {
        const DIRS: [Cell; 6] = [
            [1, 0, 0],
            [-1, 0, 0],
            [0, 1, 0],
            [0, -1, 0],
            [0, 0, 1],
            [0, 0, -1],
        ];
        let mut cells = vec![[0, 0, 0]];
        let mut occupied: BTreeSet<Cell> = cells.iter().copied().collect();
        let mut axis_prev: Option<usize> = None;
        while cells.len() < count {
            let choices: Vec<usize> = (0..6).filter(|&d| Some(d / 2) != axis_prev).collect();
            let dir = DIRS[choices[rng.random_range(0..choices.len())]];
            let run = rng.random_range(2..=7).min(count - cells.len() + 1);
            // A run of `run` cubes shares its first cube with the previous run's last one.
            for _ in 1..run.max(2) {
                let last = *cells.last().expect("non-empty");
                let next = [last[0] + dir[0], last[1] + dir[1], last[2] + dir[2]];
                let touches_other = DIRS.iter().any(|d| {
                    let n = [next[0] + d[0], next[1] + d[1], next[2] + d[2]];
                    n != last && occupied.contains(&n)
                });
                if occupied.contains(&next) || touches_other {
                    return None;
                }
                occupied.insert(next);
                cells.push(next);
                if cells.len() == count {
                    break;
                }
            }
            axis_prev = DIRS.iter().position(|d| *d == dir).map(|i| i / 2);
        }
        Some(Polycube::new(&cells))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn there_are_24_distinct_proper_rotations() {
        let r = cube_rotations();
        assert_eq!(r.len(), 24);
        let set: BTreeSet<_> = r.iter().collect();
        assert_eq!(set.len(), 24);
    }

    #[test]
    fn canonical_form_is_invariant_under_rotation_and_translation() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut tested = 0;
        while tested < 50 {
            let n = rng.random_range(11..=15);
            let Some(p) = Polycube::random_snake(&mut rng, n) else {
                continue;
            };
            for m in cube_rotations() {
                let moved: Vec<Cell> = p
                    .cells()
                    .iter()
                    .map(|&c| {
                        let r = apply(&m, c);
                        [r[0] + 5, r[1] - 3, r[2] + 17]
                    })
                    .collect();
                assert_eq!(Polycube::new(&moved), p);
            }
            tested += 1;
        }
    }

    #[test]
    fn chiral_snake_differs_from_its_mirror() {
        // An L in 3D with three orthogonal arms is chiral.
        let cells = [
            [0, 0, 0],
            [1, 0, 0],
            [2, 0, 0],
            [2, 1, 0],
            [2, 2, 0],
            [2, 2, 1],
        ];
        let p = Polycube::new(&cells);
        assert!(!p.is_achiral());
        assert_eq!(p.extent(), [2, 3, 3]);
        assert_eq!(p.mirrored().extent(), [2, 3, 3]);
        // A planar L is achiral (its mirror is a rotation of itself).
        let l = Polycube::new(&[[0, 0, 0], [1, 0, 0], [2, 0, 0], [2, 1, 0]]);
        assert!(l.is_achiral());
    }

    #[test]
    fn snakes_have_the_requested_size_and_runs() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut made = 0;
        while made < 100 {
            let n = rng.random_range(11..=15);
            if let Some(p) = Polycube::random_snake(&mut rng, n) {
                assert_eq!(p.cells().len(), n);
                let set: BTreeSet<_> = p.cells().iter().collect();
                assert_eq!(set.len(), n, "cells are distinct");
                made += 1;
            }
        }
    }
}
