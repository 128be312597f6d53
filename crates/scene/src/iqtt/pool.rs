//! The shapes 3D-IQTT questions are drawn from, drawn once per generator.

use std::collections::HashSet;
use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::options::IqttOptions;
use crate::error::{Error, Result};
use crate::polycube::Polycube;
use crate::shape::TriangleMesh;

/// Tries per wanted shape before the pool gives up on it.
const ATTEMPTS_PER_SHAPE: usize = 200;

/// Distinct snakes (distinct up to rotation and translation) with their meshes (unit cubes,
/// bounding box centred at the origin), and their indices grouped by number of cubes.
#[derive(Debug, Default)]
pub(crate) struct ShapePool {
    shapes: Vec<(Polycube, Arc<TriangleMesh>)>,
    /// `by_size[c − cubes_min]`: indices of the shapes of `c` cubes, ascending.
    by_size: Vec<Vec<usize>>,
    /// Indices of the chiral shapes, ascending.
    chiral: Vec<usize>,
    cubes_min: usize,
}

impl ShapePool {
    /// Draws the pool of `options`.
    ///
    /// The default questions draw `pool_size` shapes of uniformly random sizes, in the order
    /// (and with the random numbers) of the first `iqtt` generator, so that its datasets do not
    /// change. Hard questions draw the sizes in turn (shape `k` has `cubes_min + k mod sizes`
    /// cubes), so every size has the same number of shapes.
    ///
    /// # Errors
    /// With `hard_distractors`, [`Error::InvalidValue`] when some size has fewer than
    /// [`IqttOptions::HARD_SHAPES_PER_SIZE`] distinct shapes, or no chiral one, after the
    /// attempts run out.
    pub(crate) fn draw(options: &IqttOptions, rng: &mut ChaCha8Rng) -> Result<Self> {
        let mut seen = HashSet::new();
        let mut shapes = Vec::with_capacity(options.pool_size);
        let mut push = |p: Polycube, shapes: &mut Vec<_>| {
            let new = seen.insert(p.clone());
            if new {
                let mesh = Arc::new(TriangleMesh::polycube(p.cells()));
                shapes.push((p, mesh));
            }
            new
        };
        if options.hard_distractors {
            for k in 0..options.pool_size {
                let count = options.cubes_min + k % options.sizes();
                for _ in 0..ATTEMPTS_PER_SHAPE {
                    if let Some(p) = Polycube::random_snake(rng, count)
                        && push(p, &mut shapes)
                    {
                        break;
                    }
                }
            }
        } else {
            let mut attempts = 0usize;
            while shapes.len() < options.pool_size
                && attempts < options.pool_size * ATTEMPTS_PER_SHAPE
            {
                attempts += 1;
                let count = rng.random_range(options.cubes_min..=options.cubes_max);
                if let Some(p) = Polycube::random_snake(rng, count) {
                    push(p, &mut shapes);
                }
            }
        }
        let mut by_size = vec![Vec::new(); options.sizes()];
        for (k, (p, _)) in shapes.iter().enumerate() {
            by_size[p.cells().len() - options.cubes_min].push(k);
        }
        let chiral: Vec<usize> = (0..shapes.len())
            .filter(|&k| !shapes[k].0.is_achiral())
            .collect();
        if options.hard_distractors {
            let need = IqttOptions::HARD_SHAPES_PER_SIZE;
            for (i, bucket) in by_size.iter().enumerate() {
                let chiral_here = bucket
                    .iter()
                    .filter(|k| chiral.binary_search(k).is_ok())
                    .count();
                if bucket.len() < need || chiral_here == 0 {
                    return Err(Error::InvalidValue {
                        field: "iqtt.cubes".into(),
                        message: format!(
                            "{} distinct shapes ({chiral_here} chiral) of {} cubes found; hard \
                             questions need {need}, one of them chiral",
                            bucket.len(),
                            options.cubes_min + i
                        ),
                    });
                }
            }
        }
        Ok(Self {
            shapes,
            by_size,
            chiral,
            cubes_min: options.cubes_min,
        })
    }

    /// Number of shapes.
    pub(crate) fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Shape `k` and its mesh.
    ///
    /// # Panics
    /// If `k` is out of range.
    pub(crate) fn get(&self, k: usize) -> &(Polycube, Arc<TriangleMesh>) {
        &self.shapes[k]
    }

    /// The shape with id `id` as stored in a question's `shape_ids` (ids from the pool size on
    /// are mirror images), or `None` for an unknown id.
    pub(crate) fn by_id(&self, id: i64) -> Option<Polycube> {
        let n = self.shapes.len() as i64;
        match id {
            _ if (0..n).contains(&id) => Some(self.shapes[id as usize].0.clone()),
            _ if (n..2 * n).contains(&id) => Some(self.shapes[(id - n) as usize].0.mirrored()),
            _ => None,
        }
    }

    /// Indices of the chiral shapes (those that differ from their mirror image), ascending:
    /// the references of hard questions.
    pub(crate) fn chiral(&self) -> &[usize] {
        &self.chiral
    }

    /// A foil for the chiral shape `reference`: a shape of its number of cubes that is neither
    /// it nor its mirror image (up to rotation), drawn uniformly among those whose bounding box
    /// is closest to its own ([`Polycube::extent`], L1 distance in cubes), so that the foil
    /// does not stand out by its size.
    ///
    /// # Panics
    /// If no such shape exists (the hard pool holds three shapes of every size).
    pub(crate) fn matched_foil(&self, reference: usize, rng: &mut ChaCha8Rng) -> usize {
        let shape = &self.shapes[reference].0;
        let (mirror, extent) = (shape.mirrored(), shape.extent());
        let candidates: Vec<(i32, usize)> = self.by_size[shape.cells().len() - self.cubes_min]
            .iter()
            .filter(|&&k| k != reference && self.shapes[k].0 != mirror)
            .map(|&k| (extent_distance(&self.shapes[k].0, extent), k))
            .collect();
        let best = candidates.iter().map(|c| c.0).min();
        let best = best.unwrap_or_else(|| panic!("no foil for shape {reference}"));
        let nearest: Vec<usize> = candidates
            .iter()
            .filter(|c| c.0 == best)
            .map(|c| c.1)
            .collect();
        nearest[rng.random_range(0..nearest.len())]
    }
}

/// L1 distance in cubes between the bounding box of `shape` and the box `extent` (both sides
/// ascending).
fn extent_distance(shape: &Polycube, extent: [i32; 3]) -> i32 {
    let e = shape.extent();
    (0..3).map(|i| (e[i] - extent[i]).abs()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn hard_pool_is_balanced_over_sizes_and_distinct() {
        let mut options = IqttOptions::hard();
        options.pool_size = 40;
        let pool = ShapePool::draw(&options, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        assert_eq!(pool.len(), 40);
        for (i, bucket) in pool.by_size.iter().enumerate() {
            assert_eq!(bucket.len(), 8, "size {}", 11 + i);
        }
        let distinct: HashSet<_> = pool.shapes.iter().map(|(p, _)| p).collect();
        assert_eq!(distinct.len(), 40);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        assert!(pool.chiral().len() > 20, "most snakes are chiral");
        for &k in pool.chiral() {
            let shape = &pool.get(k).0;
            assert!(!shape.is_achiral());
            // Brute force: the admissible foils and their closest distance.
            let admissible: Vec<usize> = (0..pool.len())
                .filter(|&j| {
                    let p = &pool.get(j).0;
                    p.cells().len() == shape.cells().len() && p != shape && *p != shape.mirrored()
                })
                .collect();
            let distance = |j: usize| extent_distance(&pool.get(j).0, shape.extent());
            let best = admissible.iter().map(|&j| distance(j)).min().unwrap();
            for _ in 0..4 {
                let f = pool.matched_foil(k, &mut rng);
                assert!(admissible.contains(&f), "foil {f} of shape {k}");
                assert_eq!(
                    distance(f),
                    best,
                    "foil {f} of shape {k} is not the closest"
                );
            }
        }
    }

    #[test]
    fn too_few_shapes_of_a_size_are_reported() {
        // Snakes of 3 cubes come in two shapes (straight and L); `validate` refuses such sizes
        // for hard questions, and the pool checks what it found all the same.
        let mut options = IqttOptions::hard();
        options.cubes_min = 3;
        options.cubes_max = 3;
        options.pool_size = 9;
        let err = ShapePool::draw(&options, &mut ChaCha8Rng::seed_from_u64(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "iqtt.cubes: 2 distinct shapes (0 chiral) of 3 cubes found; hard questions need 3, \
             one of them chiral"
        );
    }
}
