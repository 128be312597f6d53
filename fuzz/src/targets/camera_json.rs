//! The camera files `pix2scene reconstruct --camera camera.json` reads.

use std::path::Path;

use pix2scene_eval::input::CameraFile;
use pix2scene_scene::{Camera, PointLight};

use super::JSON_TOKENS;
use crate::target::{AllocBound, Target};

/// `CameraFile::parse`, then the camera it describes.
pub const CAMERA_JSON: Target = Target {
    name: "camera-json",
    what: "reconstruct's camera JSON files",
    seeds,
    dictionary: JSON_TOKENS,
    run,
    // serde's vectors of lights (refused beyond three) and the values parsed.
    bound: AllocBound {
        per_input_byte: 32,
        fixed: 64 << 10,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let file = CameraFile::parse(text, Path::new("camera.json")).map_err(|e| e.to_string())?;
    let camera = file.camera(26.0);
    if !(camera.fov_y_deg > 0.0 && camera.fov_y_deg < 180.0) {
        panic!("accepted a field of view of {}", camera.fov_y_deg);
    }
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    let camera = Camera {
        eye: [0.75, 0.45, 0.8].into(),
        at: [0.25, 0.1, 0.25].into(),
        up: [0.0, 1.0, 0.0].into(),
        fov_y_deg: 26.0,
    };
    let light = PointLight {
        position: [0.6, 0.9, 0.5].into(),
        color: [1.0, 1.0, 1.0].into(),
    };
    let full = CameraFile {
        eye: camera.eye,
        at: camera.at,
        up: camera.up,
        fov_y_deg: Some(camera.fov_y_deg),
        lights: vec![light; 3],
    };
    vec![
        serde_json::to_vec_pretty(&full).expect("a camera file serializes"),
        br#"{"eye": [0.75, 0.45, 0.8], "at": [0.25, 0.1, 0.25], "lights": [{"position": [0.6, 0.9, 0.5], "color": [1, 1, 1]}]}"#.to_vec(),
    ]
}
