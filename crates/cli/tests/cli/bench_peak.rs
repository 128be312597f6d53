//! `pix2scene bench peak`.

use crate::{assert_fails_with, assert_succeeded, pix2scene};

/// `bench peak --json`: the vector unit it found, the thread count it was given, and positive
/// rates, each at most the lanes' two FLOP per fused multiply-add at 10 GHz per thread (a
/// bound no CPU reaches, so a miscounted loop shows).
#[test]
fn bench_peak_prints_its_figures_as_json() {
    let out = pix2scene(&["--threads", "2", "bench", "peak", "--reps", "2", "--json"]);
    assert_succeeded(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lanes = v["lanes"].as_u64().unwrap();
    let want = match v["isa"].as_str().unwrap() {
        "avx512" => 16,
        "avx2+fma" => 8,
        "scalar" => 1,
        other => panic!("isa {other}"),
    };
    assert_eq!(lanes, want, "{v}");
    assert_eq!(v["threads"], 2);
    let bound = |threads: f64| lanes as f64 * 2.0 * 2.0 * 10.0 * threads;
    let (one, all) = (
        v["gflops_1_thread"].as_f64().unwrap(),
        v["gflops_all_threads"].as_f64().unwrap(),
    );
    assert!(one > 0.0 && one < bound(1.0), "{v}");
    assert!(all > 0.0 && all < bound(2.0), "{v}");
}

#[test]
fn bench_peak_refuses_zero_reps() {
    let out = pix2scene(&["bench", "peak", "--reps", "0"]);
    assert_fails_with(&out, "--reps 0: must be at least 1");
}
