//! `pix2scene shade` equals `render_peer.py render` on the same inputs (mean |difference| ≤ 1e-5).
//!
//! The peer's outputs are committed under `tests/data/`. Regenerate them (needs PyTorch) with
//! `PIX2SCENE_REGEN_GOLDEN=1 cargo test -p pix2scene-render --test peer_golden`; the Python
//! interpreter and the peer script default to `~/.cache/torchenv/bin/python` and
//! `/work/shared/peers/render_peer.py` and can be set with `PIX2SCENE_PYTHON` and
//! `PIX2SCENE_RENDER_PEER`.

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

/// Per-sample light positions (the peer takes all shared or all per-sample) and a zero-colour
/// light.
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
    let home = std::env::var("HOME").unwrap_or_default();
    let python =
        std::env::var("PIX2SCENE_PYTHON").unwrap_or(format!("{home}/.cache/torchenv/bin/python"));
    let peer = std::env::var("PIX2SCENE_RENDER_PEER")
        .unwrap_or("/work/shared/peers/render_peer.py".into());
    npy::write_f32(&data("peer_depth.npy"), &[2, 32, 32], &golden_depth()).unwrap();
    std::fs::write(data("peer_params.json"), PARAMS).unwrap();
    let status = std::process::Command::new(python)
        .arg(peer)
        .arg("render")
        .arg("--depth")
        .arg(data("peer_depth.npy"))
        .arg("--scene")
        .arg(data("peer_params.json"))
        .arg("--out")
        .arg(data("peer_image.npy"))
        .status()
        .expect("running the peer");
    assert!(status.success(), "render_peer.py failed");
}

#[test]
fn shade_matches_render_peer() {
    if std::env::var("PIX2SCENE_REGEN_GOLDEN").is_ok_and(|v| v == "1") {
        regenerate();
    }
    let out = std::env::temp_dir().join(format!("p2s-golden-{}.npy", std::process::id()));
    let shape = ShadeJob {
        depth: data("peer_depth.npy"),
        params: Some(data("peer_params.json")),
        out: out.clone(),
    }
    .run()
    .unwrap();
    let ours = npy::read_f32(&out).unwrap();
    std::fs::remove_file(&out).ok();
    let peer = npy::read_f32(&data("peer_image.npy")).unwrap();
    assert_eq!(shape.to_vec(), peer.shape);
    assert_eq!(ours.shape, peer.shape);
    let n = peer.data.len() as f64;
    let mean = ours
        .data
        .iter()
        .zip(&peer.data)
        .map(|(a, b)| (a - b).abs() as f64)
        .sum::<f64>()
        / n;
    let max = ours
        .data
        .iter()
        .zip(&peer.data)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("shade vs render_peer.py: mean |diff| {mean:e}, max {max:e}");
    assert!(mean <= 1e-5, "mean |diff| {mean}");
    assert!(max <= 1e-4, "max |diff| {max}");
}
