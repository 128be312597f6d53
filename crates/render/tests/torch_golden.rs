//! `pix2scene shade` equals the repository's PyTorch renderer (`bench/torch_reference.py shade`)
//! on the same inputs (mean |difference| ≤ 1e-5).
//!
//! The PyTorch outputs are committed under `tests/data/`. Regenerate them (needs PyTorch, see
//! `bench/requirements.txt`) with `PIX2SCENE_REGEN_GOLDEN=1 cargo test -p pix2scene-render --test
//! torch_golden`; the Python interpreter defaults to the repository's `.venv/bin/python` and can
//! be set with `PIX2SCENE_PYTHON`.

mod common;

use std::path::{Path, PathBuf};

use pix2scene_render::{ShadeJob, npy};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Two 32² depth maps: a smooth surface and a box edge in front of a wall.
fn golden_depth() -> Vec<f32> {
    let mut d = common::smooth_depth(32, 3);
    d.extend(common::discontinuous_depth(32, 4));
    d
}

/// Per-sample light positions (the PyTorch renderer takes all shared or all per-sample) and a
/// zero-colour light.
const PARAMS: &str = r#"{
  "fovy_deg": 30.0,
  "albedo": [0.7, 0.6, 0.5],
  "ambient": [0.12, 0.1, 0.08],
  "kl": 0.4,
  "kq": 0.6,
  "lights": [
    {"pos_cam": [[0.3, 0.6, 0.2], [-0.2, 0.5, -0.1]], "color": [0.9, 0.8, 0.7]},
    {"pos_cam": [[-0.5, 0.4, 0.1], [-0.5, 0.4, 0.1]], "color": [0.8, 0.1, 0.1]},
    {"pos_cam": [[0.4, -0.2, 0.3], [0.1, 0.1, 0.1]], "color": [0.0, 0.0, 0.0]}
  ]
}
"#;

fn regenerate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var("PIX2SCENE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or(root.join(".venv/bin/python"));
    npy::write_f32(&data("golden_depth.npy"), &[2, 32, 32], &golden_depth()).unwrap();
    std::fs::write(data("golden_params.json"), PARAMS).unwrap();
    let status = std::process::Command::new(&python)
        .arg(root.join("bench/torch_reference.py"))
        .arg("shade")
        .arg("--depth")
        .arg(data("golden_depth.npy"))
        .arg("--params")
        .arg(data("golden_params.json"))
        .arg("--out")
        .arg(data("golden_image.npy"))
        .status()
        .expect("running bench/torch_reference.py");
    assert!(status.success(), "bench/torch_reference.py shade failed");
}

#[test]
fn shade_matches_the_torch_reference() {
    if std::env::var("PIX2SCENE_REGEN_GOLDEN").is_ok_and(|v| v == "1") {
        regenerate();
    }
    let out = std::env::temp_dir().join(format!("p2s-golden-{}.npy", std::process::id()));
    let shape = ShadeJob {
        depth: data("golden_depth.npy"),
        params: Some(data("golden_params.json")),
        out: out.clone(),
    }
    .run()
    .unwrap();
    let ours = npy::read_f32(&out).unwrap();
    std::fs::remove_file(&out).ok();
    let torch = npy::read_f32(&data("golden_image.npy")).unwrap();
    assert_eq!(shape.to_vec(), torch.shape);
    assert_eq!(ours.shape, torch.shape);
    let n = torch.data.len() as f64;
    let mean = ours
        .data
        .iter()
        .zip(&torch.data)
        .map(|(a, b)| (a - b).abs() as f64)
        .sum::<f64>()
        / n;
    let max = ours
        .data
        .iter()
        .zip(&torch.data)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("shade vs torch_reference.py: mean |diff| {mean:e}, max {max:e}");
    assert!(mean <= 1e-5, "mean |diff| {mean}");
    assert!(max <= 1e-4, "max |diff| {max}");
}
