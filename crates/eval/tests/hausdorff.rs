//! The k-d tree Hausdorff distances against brute force on seeded random clouds, and their
//! independence from the thread count.

use pix2scene_eval::{Error, Hausdorff, Point, hausdorff, hausdorff_brute_force};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A cloud of `n` points of one of several shapes: uniform in a box, clustered, on a plane
/// of constant z (many equal coordinates), on a coarse grid (many ties), or with every point
/// repeated.
fn cloud(rng: &mut ChaCha8Rng, n: usize, kind: usize) -> Vec<Point> {
    let mut uniform = || {
        [
            rng.random_range(-0.5..0.5f32),
            rng.random_range(-0.5..0.5f32),
            rng.random_range(-1.5..-0.5f32),
        ]
    };
    match kind {
        0 => (0..n).map(|_| uniform()).collect(),
        1 => {
            let centres: Vec<Point> = (0..3).map(|_| uniform()).collect();
            (0..n)
                .map(|i| {
                    let c = centres[i % 3];
                    let p = uniform();
                    [c[0] + 0.01 * p[0], c[1] + 0.01 * p[1], c[2] + 0.01 * p[2]]
                })
                .collect()
        }
        2 => (0..n)
            .map(|_| {
                let p = uniform();
                [p[0], p[1], -1.0]
            })
            .collect(),
        3 => (0..n)
            .map(|_| uniform().map(|v| (v * 4.0).round() / 4.0))
            .collect(),
        _ => {
            let base: Vec<Point> = (0..n.div_ceil(4)).map(|_| uniform()).collect();
            (0..n).map(|i| base[i % base.len()]).collect()
        }
    }
}

fn assert_close(kd: &Hausdorff, brute: &Hausdorff, case: &str) {
    for (what, a, b) in [
        ("forward max", kd.forward.max, brute.forward.max),
        ("forward mean", kd.forward.mean, brute.forward.mean),
        ("reverse max", kd.reverse.max, brute.reverse.max),
        ("reverse mean", kd.reverse.mean, brute.reverse.mean),
    ] {
        assert!(
            (a - b).abs() <= 1e-6 * b.max(1e-3),
            "{case}: {what} {a} (k-d tree) vs {b} (brute force)"
        );
    }
}

#[test]
fn kd_tree_matches_brute_force_on_many_random_clouds() {
    let sizes = [1usize, 2, 3, 5, 17, 64, 333, 1500];
    let mut cases = 0;
    for seed in 0..40u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(7);
        let (n, m) = (sizes[seed as usize % 8], sizes[(seed as usize / 3 + 2) % 8]);
        let (kind_a, kind_b) = (seed as usize % 5, (seed as usize / 5) % 5);
        let a = cloud(&mut rng, n, kind_a);
        let b = cloud(&mut rng, m, kind_b);
        let case = format!("seed {seed}: {n} points (kind {kind_a}) vs {m} (kind {kind_b})");
        let kd = hausdorff(&a, &b).unwrap();
        let brute = hausdorff_brute_force(&a, &b).unwrap();
        assert_close(&kd, &brute, &case);
        // The two directions swap with the clouds.
        let swapped = hausdorff(&b, &a).unwrap();
        assert_eq!(
            (swapped.forward, swapped.reverse),
            (kd.reverse, kd.forward),
            "{case}"
        );
        cases += 1;
    }
    assert_eq!(cases, 40);
}

#[test]
fn a_cloud_against_itself_or_a_duplicate_of_itself_is_at_distance_zero() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for kind in 0..5 {
        let a = cloud(&mut rng, 400, kind);
        let doubled: Vec<Point> = a.iter().chain(&a).copied().collect();
        for b in [&a, &doubled] {
            let h = hausdorff(&a, b).unwrap();
            assert_eq!(
                [h.forward.max, h.forward.mean, h.reverse.max, h.reverse.mean],
                [0.0; 4],
                "kind {kind}"
            );
        }
    }
}

#[test]
fn a_single_point_is_at_its_distance_from_every_point() {
    let a = vec![[0.0f32, 0.0, -1.0]];
    let b = vec![[0.3f32, 0.4, -1.0], [0.0, 0.0, -2.0], [0.0, 0.0, -1.5]];
    let h = hausdorff(&a, &b).unwrap();
    assert!((h.forward.max - 0.5).abs() < 1e-7 && (h.forward.mean - 0.5).abs() < 1e-7);
    assert!((h.reverse.max - 1.0).abs() < 1e-7);
    assert!((h.reverse.mean - 2.0 / 3.0).abs() < 1e-7);
}

#[test]
fn empty_and_non_finite_clouds_are_refused_by_name() {
    let a = vec![[0.0f32, 0.0, -1.0]];
    let msg = |e: Error| e.to_string();
    assert_eq!(
        msg(hausdorff(&[], &a).unwrap_err()),
        "the reconstruction point cloud is empty (no valid pixel)"
    );
    assert_eq!(
        msg(hausdorff(&a, &[]).unwrap_err()),
        "the ground-truth point cloud is empty (no valid pixel)"
    );
    assert_eq!(
        msg(hausdorff_brute_force(&a, &[]).unwrap_err()),
        "the ground-truth point cloud is empty (no valid pixel)"
    );
    assert_eq!(
        msg(hausdorff(&[[0.0, f32::NAN, 1.0]], &a).unwrap_err()),
        "reconstruction point cloud: point 0 = [0.0, NaN, 1.0] is not finite"
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let a = cloud(&mut rng, 5000, 0);
    let b = cloud(&mut rng, 4000, 1);
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| hausdorff(&a, &b).unwrap())
    };
    let one = on(1);
    for threads in [2, 3, 8] {
        let h = on(threads);
        assert_eq!(
            [h.forward.max, h.forward.mean, h.reverse.max, h.reverse.mean].map(f64::to_bits),
            [
                one.forward.max,
                one.forward.mean,
                one.reverse.max,
                one.reverse.mean
            ]
            .map(f64::to_bits),
            "{threads} threads"
        );
    }
}
