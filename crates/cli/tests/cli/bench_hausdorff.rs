//! `pix2scene bench hausdorff`.

use crate::{assert_fails_with, pix2scene};

#[test]
fn bench_hausdorff_prints_json_whose_figures_mean_what_they_say() {
    let out = pix2scene(&[
        "bench",
        "hausdorff",
        "--points",
        "1000",
        "--reps",
        "3",
        "--brute-force-queries",
        "100",
        "--threads",
        "1",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim_end().lines().last().unwrap()).unwrap();
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    assert_eq!(v["points"], 1000);
    // 1000 points come from the smallest even square image that holds them.
    assert_eq!(v["image_size"], 32);
    assert_eq!(
        (v["threads"].as_u64(), v["reps"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(v["brute_force_queries"], 100);
    // Timings are reported, never compared with each other (two medians of a loaded machine
    // may come in either order); the minimum over reps is at most their median by definition.
    assert!(f("build_ms") > 0.0 && f("both_directions_ms") > 0.0, "{v}");
    assert!(f("both_directions_min_ms") <= f("both_directions_ms"));
    assert!(f("brute_force_ms") > 0.0);
    // The perturbed copy is 1–4 % of the depth away: distances of that order, max ≥ mean.
    let h = &v["hausdorff"];
    for dir in ["forward", "reverse"] {
        let (max, mean) = (
            h[dir]["max"].as_f64().unwrap(),
            h[dir]["mean"].as_f64().unwrap(),
        );
        assert!(mean > 0.0 && mean <= max && max < 0.2, "{dir}: {h}");
    }
}

#[test]
fn bench_hausdorff_refuses_zero_points() {
    let out = pix2scene(&["bench", "hausdorff", "--points", "0", "--json"]);
    assert_fails_with(&out, "--points: must be at least 1, got 0");
}
