//! Bad input to `shade` gives clear errors naming the file and the problem (pinned texts).

use std::path::{Path, PathBuf};

use pix2scene_render::{ShadeJob, npy};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("p2s-bad-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn shade(depth: &Path, params: Option<&Path>, out: &Path) -> String {
    let job = ShadeJob {
        depth: depth.to_path_buf(),
        params: params.map(Path::to_path_buf),
        out: out.to_path_buf(),
    };
    job.run().unwrap_err().to_string()
}

#[test]
fn wrong_shapes_are_rejected() {
    let dir = Dir::new("shape");
    let d = dir.path("d.npy");
    let out = dir.path("o.npy");
    for (shape, got) in [
        (vec![16], "[16]"),
        (vec![4, 6], "[4, 6]"),
        (vec![2, 1, 1], "[2, 1, 1]"),
        (vec![1, 2, 2, 2], "[1, 2, 2, 2]"),
    ] {
        let n = shape.iter().product();
        npy::write_f32(&d, &shape, &vec![1.0; n]).unwrap();
        assert_eq!(
            shade(&d, None, &out),
            format!(
                "{}: depth has shape {got}, expected [height, width] or [batch, height, width], square, at least 2×2",
                d.display()
            )
        );
    }
}

#[test]
fn nan_and_non_positive_depth_are_rejected() {
    let dir = Dir::new("value");
    let d = dir.path("d.npy");
    let out = dir.path("o.npy");
    for (bad, text) in [
        (f32::NAN, "NaN"),
        (0.0, "0"),
        (-1.5, "-1.5"),
        (f32::INFINITY, "inf"),
    ] {
        let mut v = vec![1.0; 16];
        v[5] = bad;
        npy::write_f32(&d, &[4, 4], &v).unwrap();
        assert_eq!(
            shade(&d, None, &out),
            format!(
                "{}: depth[5] = {text} is not a positive finite distance",
                d.display()
            )
        );
    }
}

#[test]
fn wrong_dtype_and_missing_file_are_rejected() {
    let dir = Dir::new("dtype");
    let d = dir.path("d.npy");
    let out = dir.path("o.npy");
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0; 32]);
    std::fs::write(&d, bytes).unwrap();
    assert_eq!(
        shade(&d, None, &out),
        format!(
            "{}: dtype '<f8' is not supported, expected little-endian float32 ('<f4')",
            d.display()
        )
    );
    // The message names the file; the I/O error is its source, reported once after it.
    let missing = dir.path("missing.npy");
    let job = ShadeJob {
        depth: missing.clone(),
        params: None,
        out: out.clone(),
    };
    let err = job.run().unwrap_err();
    assert_eq!(err.to_string(), missing.display().to_string());
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.starts_with("No such file")),
        "{cause:?}"
    );
}

#[test]
fn malformed_params_are_rejected() {
    let dir = Dir::new("params");
    let d = dir.path("d.npy");
    npy::write_f32(&d, &[4, 4], &[1.0; 16]).unwrap();
    let p = dir.path("p.json");
    let out = dir.path("o.npy");
    let cases = [
        (
            r#"{"fovy": 26}"#,
            "unknown field `fovy`, expected one of `fovy_deg`, `albedo`, `ambient`, `kl`, `kq`, `lights` at line 1 column 7",
        ),
        (
            r#"{"kl": "high"}"#,
            "invalid type: string \"high\", expected f32 at line 1 column 13",
        ),
        (
            r#"{"albedo": [0.5, 0.5]"#,
            "invalid length 2, expected an array of length 3 at line 1 column 21",
        ),
        (r#"{"fovy_deg": -3}"#, "fovy_deg: -3 is not in (0, 180)"),
        (
            r#"{"kl": 0, "kq": 0}"#,
            "kl, kq: (0, 0) must be non-negative and not both 0",
        ),
    ];
    for (json, message) in cases {
        std::fs::write(&p, json).unwrap();
        assert_eq!(
            shade(&d, Some(&p), &out),
            format!("{}: {message}", p.display()),
            "{json}"
        );
    }
    std::fs::write(
        &p,
        r#"{"lights": [{"pos_cam": [[0, 1, 0], [0, 1, 0]], "color": [1, 1, 1]}]}"#,
    )
    .unwrap();
    assert_eq!(
        shade(&d, Some(&p), &out),
        format!(
            "{}: lights[0].pos_cam has 2 positions, expected one per sample (1)",
            d.display()
        )
    );
    assert_eq!(
        shade(&d, None, &dir.path("o.tiff")),
        format!(
            "--out: {}: expected a .npy or .png file name",
            dir.path("o.tiff").display()
        )
    );
}

#[test]
fn png_output_is_written() {
    let dir = Dir::new("png");
    let d = dir.path("d.npy");
    npy::write_f32(&d, &[2, 8, 8], &[1.0; 128]).unwrap();
    let job = ShadeJob {
        depth: d,
        params: None,
        out: dir.path("o.png"),
    };
    assert_eq!(job.run().unwrap(), [2, 8, 8, 3]);
    let bytes = std::fs::read(dir.path("o.png")).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
}
