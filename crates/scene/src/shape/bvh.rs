//! Bounding-volume hierarchy over axis-aligned boxes: binned-SAH build, flattened depth-first
//! nodes, iterative front-to-back traversal.

use std::ops::Range;

use glam::Vec3;

/// Number of SAH bins per axis.
const BINS: usize = 12;
/// Largest number of primitives in a leaf.
const MAX_LEAF: usize = 4;
/// Below this depth the build uses the surface-area heuristic; deeper, it splits at the median,
/// which bounds the tree depth by `SAH_DEPTH + log2(n)` and so the traversal stack.
const SAH_DEPTH: usize = 40;
/// Traversal stack size: enough for `SAH_DEPTH + 32` levels.
const STACK: usize = 80;
/// Relative cost of one box test against one primitive test, for the SAH.
const TRAVERSAL_COST: f32 = 1.0;

/// An axis-aligned box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Aabb {
    /// Lower corner.
    pub min: Vec3,
    /// Upper corner.
    pub max: Vec3,
}

impl Aabb {
    /// The empty box (the identity of [`Aabb::union`]).
    pub const EMPTY: Aabb = Aabb {
        min: Vec3::splat(f32::INFINITY),
        max: Vec3::splat(f32::NEG_INFINITY),
    };

    /// The smallest box containing both.
    #[inline]
    pub fn union(self, other: Aabb) -> Aabb {
        Aabb {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    /// The smallest box containing `self` and `p`.
    #[inline]
    pub fn grow(self, p: Vec3) -> Aabb {
        Aabb {
            min: self.min.min(p),
            max: self.max.max(p),
        }
    }

    /// Centre point.
    #[inline]
    pub fn centre(&self) -> Vec3 {
        (self.min + self.max) * 0.5
    }

    /// Half the surface area (0 for an empty box).
    #[inline]
    fn half_area(&self) -> f32 {
        let d = (self.max - self.min).max(Vec3::ZERO);
        d.x * d.y + d.y * d.z + d.z * d.x
    }
}

/// One node of the flattened tree, 32 bytes.
///
/// Interior nodes (`count == 0`) have their left child right after them and their right child
/// at `index`; leaves hold primitives `index .. index + count` of [`Bvh::order`].
#[derive(Clone, Copy, Debug)]
struct Node {
    min: Vec3,
    index: u32,
    max: Vec3,
    count: u32,
}

/// A bounding-volume hierarchy over primitives given by their bounding boxes.
///
/// The caller stores its primitives in [`Bvh::order`], so that each leaf covers a contiguous
/// range of them.
#[derive(Clone, Debug)]
pub(crate) struct Bvh {
    nodes: Vec<Node>,
    order: Vec<u32>,
}

/// Build-time record of one primitive.
#[derive(Clone, Copy)]
struct Item {
    bounds: Aabb,
    centre: Vec3,
    id: u32,
}

impl Bvh {
    /// Builds the tree with binned SAH splits (median splits below depth [`SAH_DEPTH`]).
    ///
    /// # Panics
    /// If `bounds` is empty or has more than `u32::MAX` entries.
    pub fn build(bounds: &[Aabb]) -> Bvh {
        assert!(!bounds.is_empty(), "a BVH needs at least one primitive");
        let n = u32::try_from(bounds.len()).expect("primitive count fits in u32");
        let mut items: Vec<Item> = bounds
            .iter()
            .zip(0..n)
            .map(|(b, id)| Item {
                bounds: *b,
                centre: b.centre(),
                id,
            })
            .collect();
        let mut nodes = Vec::with_capacity(2 * bounds.len() / MAX_LEAF + 1);
        build_node(&mut nodes, &mut items, 0, 0);
        Bvh {
            nodes,
            order: items.iter().map(|it| it.id).collect(),
        }
    }

    /// Primitive indices in leaf order: leaf ranges passed to the traversal callback index this.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Bounds of the whole tree.
    pub fn bounds(&self) -> Aabb {
        Aabb {
            min: self.nodes[0].min,
            max: self.nodes[0].max,
        }
    }

    /// Visits the leaves a ray may hit, nearest box first, skipping boxes entered beyond the
    /// current `t_max`. `leaf` tests the primitives in a range of [`Bvh::order`] and lowers
    /// `t_max` to the nearest hit it finds.
    ///
    /// # Units and frames
    /// `origin` and `inv_dir` (the componentwise reciprocal of the ray direction) are in the
    /// frame of the primitives' boxes.
    #[inline]
    pub fn traverse(
        &self,
        origin: Vec3,
        inv_dir: Vec3,
        t_min: f32,
        t_max: &mut f32,
        mut leaf: impl FnMut(Range<usize>, &mut f32),
    ) {
        let nodes = &self.nodes[..];
        let mut stack = [0u32; STACK];
        let mut top = 0usize;
        let mut current = 0usize;
        if slab(&nodes[0], origin, inv_dir, t_min, *t_max).is_none() {
            return;
        }
        loop {
            let node = &nodes[current];
            if node.count > 0 {
                let start = node.index as usize;
                leaf(start..start + node.count as usize, t_max);
            } else {
                let left = current + 1;
                let right = node.index as usize;
                let hit_left = slab(&nodes[left], origin, inv_dir, t_min, *t_max);
                let hit_right = slab(&nodes[right], origin, inv_dir, t_min, *t_max);
                match (hit_left, hit_right) {
                    (Some(tl), Some(tr)) => {
                        let (near, far) = if tl <= tr {
                            (left, right)
                        } else {
                            (right, left)
                        };
                        stack[top] = far as u32;
                        top += 1;
                        current = near;
                        continue;
                    }
                    (Some(_), None) => {
                        current = left;
                        continue;
                    }
                    (None, Some(_)) => {
                        current = right;
                        continue;
                    }
                    (None, None) => {}
                }
            }
            // Pop the next subtree, skipping those entered beyond the nearest hit so far.
            loop {
                if top == 0 {
                    return;
                }
                top -= 1;
                let candidate = stack[top] as usize;
                if slab(&nodes[candidate], origin, inv_dir, t_min, *t_max).is_some() {
                    current = candidate;
                    break;
                }
            }
        }
    }
}

/// Entry parameter of the ray into the node's box, if it overlaps `(t_min, t_max)`.
#[inline(always)]
fn slab(node: &Node, origin: Vec3, inv_dir: Vec3, t_min: f32, t_max: f32) -> Option<f32> {
    let t0 = (node.min - origin) * inv_dir;
    let t1 = (node.max - origin) * inv_dir;
    let near = t0.min(t1).max_element().max(t_min);
    let far = t0.max(t1).min_element().min(t_max);
    (near <= far).then_some(near)
}

/// Appends the subtree over `items` to `nodes` (depth first) and returns its index.
fn build_node(nodes: &mut Vec<Node>, items: &mut [Item], offset: usize, depth: usize) -> usize {
    let bounds = items.iter().fold(Aabb::EMPTY, |b, it| b.union(it.bounds));
    let index = nodes.len();
    nodes.push(Node {
        min: bounds.min,
        index: offset as u32,
        max: bounds.max,
        count: items.len() as u32,
    });
    if items.len() <= MAX_LEAF {
        return index;
    }
    let centres = items.iter().fold(Aabb::EMPTY, |b, it| b.grow(it.centre));
    let extent = centres.max - centres.min;
    let axis = if extent.x >= extent.y && extent.x >= extent.z {
        0
    } else if extent.y >= extent.z {
        1
    } else {
        2
    };
    if extent[axis] <= 0.0 {
        // All centres coincide: no split separates them, and the set is small in practice.
        if items.len() <= 4 * MAX_LEAF {
            return index;
        }
        let mid = items.len() / 2;
        return split_at(nodes, items, offset, depth, index, mid);
    }
    let mid = if depth < SAH_DEPTH {
        match sah_split(items, &centres, bounds.half_area()) {
            Some(mid) => mid,
            None => return index,
        }
    } else {
        let mid = items.len() / 2;
        items.select_nth_unstable_by(mid, |a, b| a.centre[axis].total_cmp(&b.centre[axis]));
        mid
    };
    split_at(nodes, items, offset, depth, index, mid)
}

/// Turns node `index` into an interior node whose children hold `items[..mid]` and
/// `items[mid..]`.
fn split_at(
    nodes: &mut Vec<Node>,
    items: &mut [Item],
    offset: usize,
    depth: usize,
    index: usize,
    mid: usize,
) -> usize {
    let (left, right) = items.split_at_mut(mid);
    build_node(nodes, left, offset, depth + 1);
    let right_index = build_node(nodes, right, offset + mid, depth + 1);
    nodes[index].index = right_index as u32;
    nodes[index].count = 0;
    index
}

/// Finds the cheapest binned SAH split over all three axes and partitions `items` by it;
/// returns the size of the left part, or `None` when keeping a leaf is cheaper.
fn sah_split(items: &mut [Item], centres: &Aabb, parent_half_area: f32) -> Option<usize> {
    let extent = centres.max - centres.min;
    let bin_of = |c: f32, axis: usize| -> usize {
        let k = ((c - centres.min[axis]) / extent[axis] * BINS as f32) as usize;
        k.min(BINS - 1)
    };
    let mut best: Option<(f32, usize, usize)> = None; // (cost, axis, first bin of the right)
    for axis in 0..3 {
        if extent[axis] <= 0.0 {
            continue;
        }
        let mut bin_bounds = [Aabb::EMPTY; BINS];
        let mut bin_count = [0usize; BINS];
        for it in items.iter() {
            let k = bin_of(it.centre[axis], axis);
            bin_bounds[k] = bin_bounds[k].union(it.bounds);
            bin_count[k] += 1;
        }
        // Sweep from the right to get the cost of every right part.
        let mut right_area = [0.0f32; BINS];
        let mut right_count = [0usize; BINS];
        let mut acc = Aabb::EMPTY;
        let mut count = 0;
        for k in (1..BINS).rev() {
            acc = acc.union(bin_bounds[k]);
            count += bin_count[k];
            right_area[k] = acc.half_area();
            right_count[k] = count;
        }
        let mut acc = Aabb::EMPTY;
        let mut count = 0;
        for k in 1..BINS {
            acc = acc.union(bin_bounds[k - 1]);
            count += bin_count[k - 1];
            if count == 0 || right_count[k] == 0 {
                continue;
            }
            let cost = acc.half_area() * count as f32 + right_area[k] * right_count[k] as f32;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, axis, k));
            }
        }
    }
    let (cost, axis, split) = best?;
    let split_cost = TRAVERSAL_COST + cost / parent_half_area.max(f32::MIN_POSITIVE);
    if items.len() <= 4 * MAX_LEAF && split_cost >= items.len() as f32 {
        return None;
    }
    // Partition in place: bins below `split` go left.
    let mut left = 0;
    for i in 0..items.len() {
        if bin_of(items[i].centre[axis], axis) < split {
            items.swap(i, left);
            left += 1;
        }
    }
    Some(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_boxes(n: usize, seed: u64) -> Vec<Aabb> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let c = Vec3::new(rng.random(), rng.random(), rng.random()) * 2.0 - 1.0;
                let h = Vec3::new(rng.random(), rng.random(), rng.random()) * 0.05;
                Aabb {
                    min: c - h,
                    max: c + h,
                }
            })
            .collect()
    }

    #[test]
    fn every_primitive_appears_in_exactly_one_leaf_inside_its_parents() {
        let boxes = random_boxes(1000, 3);
        let bvh = Bvh::build(&boxes);
        let mut seen = vec![0u32; boxes.len()];
        let mut order_sorted = bvh.order().to_vec();
        order_sorted.sort_unstable();
        assert_eq!(order_sorted, (0..1000).collect::<Vec<u32>>());
        // Walk the tree and check that each node's box contains its primitives' boxes.
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            let node = bvh.nodes[i];
            if node.count > 0 {
                for k in node.index..node.index + node.count {
                    let id = bvh.order()[k as usize] as usize;
                    seen[id] += 1;
                    assert!(boxes[id].min.cmpge(node.min).all());
                    assert!(boxes[id].max.cmple(node.max).all());
                }
            } else {
                for child in [i + 1, node.index as usize] {
                    let c = bvh.nodes[child];
                    assert!(c.min.cmpge(node.min).all() && c.max.cmple(node.max).all());
                    stack.push(child);
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn traversal_visits_every_box_the_ray_crosses() {
        let boxes = random_boxes(500, 4);
        let bvh = Bvh::build(&boxes);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..200 {
            let origin = Vec3::new(rng.random(), rng.random(), rng.random()) * 6.0 - 3.0;
            let dir = (Vec3::new(rng.random(), rng.random(), rng.random()) * 2.0 - 1.0).normalize();
            let inv = dir.recip();
            let mut visited = vec![false; boxes.len()];
            let mut t_max = f32::INFINITY;
            bvh.traverse(origin, inv, 0.0, &mut t_max, |range, _| {
                for k in range {
                    visited[bvh.order()[k] as usize] = true;
                }
            });
            for (i, b) in boxes.iter().enumerate() {
                let node = Node {
                    min: b.min,
                    index: 0,
                    max: b.max,
                    count: 1,
                };
                if slab(&node, origin, inv, 0.0, f32::INFINITY).is_some() {
                    assert!(visited[i], "box {i} crossed by the ray was not visited");
                }
            }
        }
    }
}
