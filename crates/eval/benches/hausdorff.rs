//! Hausdorff benchmarks (divan): both directions of two 16k-point clouds of a 128² image (the
//! clouds of `pix2scene bench hausdorff`), trees built included; the tree building alone; and
//! brute force between a 256-point sample of the reconstruction and the whole ground truth,
//! both directions (2 · 256 · 16384 distances, 1/64 of the whole clouds' cost).
//!
//! `cargo bench -p pix2scene-eval`; for the one-core figure set `RAYON_NUM_THREADS=1`.

use divan::Bencher;
use pix2scene_eval::bench::bench_clouds;
use pix2scene_eval::{NearestTree, hausdorff, hausdorff_brute_force};

fn main() {
    divan::main();
}

const POINTS: usize = 16384;

#[divan::bench]
fn both_directions(bencher: Bencher) {
    let (rec, truth, _) = bench_clouds(POINTS, 0).unwrap();
    bencher.bench_local(|| hausdorff(&rec, &truth).unwrap());
}

#[divan::bench]
fn build_one_tree(bencher: Bencher) {
    let (_, truth, _) = bench_clouds(POINTS, 0).unwrap();
    bencher.bench_local(|| NearestTree::new(&truth, "ground-truth").unwrap());
}

#[divan::bench(sample_count = 10)]
fn brute_force_sample_of_256(bencher: Bencher) {
    let (rec, truth, _) = bench_clouds(POINTS, 0).unwrap();
    let sample: Vec<_> = rec.iter().step_by(POINTS / 256).copied().collect();
    bencher.bench_local(|| hausdorff_brute_force(&sample, &truth).unwrap());
}
