//! `pix2scene shade` and `pix2scene bench render`.

use pix2scene_render::npy;

use crate::{assert_fails_with, assert_succeeded, pix2scene, scratch};

#[test]
fn shade_writes_the_yardstick_layout_and_matches_the_golden_image() {
    let dir = scratch("shade");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../render/tests/data");
    let out = dir.join("img.npy");
    let run = pix2scene(&[
        "shade",
        "--depth",
        data.join("golden_depth.npy").to_str().unwrap(),
        "--params",
        data.join("golden_params.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_succeeded(&run);
    let ours = npy::read_f32(&out).unwrap();
    let golden = npy::read_f32(&data.join("golden_image.npy")).unwrap();
    assert_eq!(ours.shape, golden.shape);
    let mean = ours
        .data
        .iter()
        .zip(&golden.data)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / golden.data.len() as f32;
    assert!(mean <= 1e-5, "mean |diff| {mean}");
}

#[test]
fn shade_rejects_bad_depth_in_one_line_naming_the_file() {
    let dir = scratch("shade-bad");
    let depth = dir.join("d.npy");
    npy::write_f32(&depth, &[3, 5], &[1.0; 15]).unwrap();
    let out = pix2scene(&[
        "shade",
        "--depth",
        depth.to_str().unwrap(),
        "--out",
        dir.join("o.png").to_str().unwrap(),
    ]);
    assert_fails_with(
        &out,
        &format!(
            "{}: depth has shape [3, 5], expected [height, width] or [batch, height, width], square, at least 2×2",
            depth.display()
        ),
    );
}

/// `bench render --json`: the counts are the flags', and forward+backward (which includes a
/// forward pass) takes at least as long as the forward pass alone.
#[test]
fn bench_render_prints_json_timings() {
    let out = pix2scene(&[
        "bench",
        "render",
        "--size",
        "16",
        "--batch",
        "2",
        "--reps",
        "5",
        "--threads",
        "1",
        "--json",
    ]);
    assert_succeeded(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["impl"], "fused-flex");
    for (key, want) in [("threads", 1), ("size", 16), ("batch", 2), ("reps", 5)] {
        assert_eq!(v[key], want, "{key}: {v}");
    }
    let fwd = v["fwd_ms_per_image"].as_f64().unwrap();
    let fwd_bwd = v["fwd_bwd_ms_per_image"].as_f64().unwrap();
    assert!(fwd > 0.0 && fwd_bwd >= fwd, "{v}");
}
