//! `.npy` depth files, as `pix2scene shade` reads them.

use std::path::Path;

use pix2scene_render::npy;

use crate::target::{AllocBound, Target};

/// `npy::parse_f32`.
pub const NPY: Target = Target {
    name: "npy",
    what: ".npy float32 arrays (shade's depth input)",
    seeds,
    dictionary: &[
        b"\x93NUMPY",
        b"'descr'",
        b"'<f4'",
        b"'<f8'",
        b"'>f4'",
        b"'fortran_order'",
        b"False",
        b"True",
        b"'shape'",
        b"()",
        b"(0,)",
        b"(2, 3)",
        b"(4294967296, 4294967296)",
        b"(18446744073709551615,)",
        b"(3037000500, 3037000500)",
        b"\x01\x00",
        b"\x02\x00",
        b"\x03\x00",
        b"\xff\xff",
    ],
    run,
    // The values (4 bytes each from 4 input bytes) and the shape.
    bound: AllocBound {
        per_input_byte: 2,
        fixed: 64 << 10,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    npy::parse_f32(data, Path::new("x.npy"))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("p2s-fuzz-npy-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let seeds = [vec![5], vec![2, 3], vec![2, 8, 8], vec![]]
        .into_iter()
        .enumerate()
        .map(|(i, shape)| {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|k| 1.0 + k as f32 * 0.25).collect();
            let path = dir.join(format!("{i}.npy"));
            npy::write_f32(&path, &shape, &data).expect("temporary directory is writable");
            std::fs::read(&path).expect("just written")
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    seeds
}
