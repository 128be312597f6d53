//! A minimal `.npy` reader and writer: little-endian `float32`, C order (NumPy format 1.0–3.0).
//!
//! # Why not `npyz`
//! Hand-written on purpose (compared with `npyz` 0.8.4 on the same inputs, see
//! docs/reliability.md): `npyz` reads a shape whose element count overflows (e.g.
//! `(4294967296, 4294967296)`) as an array of 0 values, ignores bytes after the data, and
//! returns Fortran-order or big-endian data through the same call, leaving each check to the
//! caller; this reader accepts exactly one layout (`<f4`, C order), checks the element count
//! without overflow and the data length exactly, and names the file and the problem in a
//! one-line error. The format is small (a magic string, a Python-dict header, raw values), so
//! the reader is short; it is fuzzed by `fuzz/` (target `npy`).

use std::path::Path;

use crate::error::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// An `f32` array read from or written to a `.npy` file.
///
/// # Shapes
/// `data` holds `shape.iter().product()` values in C (row-major) order.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Extent of each axis.
    pub shape: Vec<usize>,
    /// Values, C order.
    pub data: Vec<f32>,
}

/// Reads a little-endian `float32` C-order `.npy` file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Npy`] if it is not a `.npy` file, its
/// dtype is not `float32` (`<f4`), it is in Fortran order, or its length disagrees with its
/// shape. Messages name the file.
pub fn read_f32(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_f32(&bytes, path)
}

/// Parses the bytes of a little-endian `float32` C-order `.npy` file; `path` is only used in
/// error messages.
///
/// # Errors
/// As [`read_f32`], except for I/O.
pub fn parse_f32(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    parse(bytes).map_err(|message| Error::Npy {
        path: path.to_path_buf(),
        message,
    })
}

/// Writes `data` with `shape` as a little-endian `float32` C-order `.npy` file (format 1.0),
/// atomically.
///
/// # Errors
/// [`Error::Scene`] (an I/O error naming the file) if the file cannot be written.
///
/// # Panics
/// If `data.len()` differs from the product of `shape`.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    assert_eq!(
        data.len(),
        shape.iter().product::<usize>(),
        "npy data length"
    );
    let shape_text = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so that the data starts on a 64-byte boundary; the header ends with '\n'.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(pix2scene_scene::atomic_file::write_atomic(path, &out)?)
}

fn parse(bytes: &[u8]) -> std::result::Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic bytes)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("truncated or non-text .npy header")?;
    let descr = dict_value(header, "descr").ok_or("header has no 'descr'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    if descr != "<f4" {
        return Err(format!(
            "dtype '{}' is not supported, expected little-endian float32 ('<f4')",
            descr.escape_debug()
        ));
    }
    if dict_value(header, "fortran_order").ok_or("header has no 'fortran_order'")? != "False" {
        return Err("Fortran-order arrays are not supported, expected C order".into());
    }
    let shape_text = dict_value(header, "shape").ok_or("header has no 'shape'")?;
    let shape = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape {}", shape_text.escape_debug()))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let body = &bytes[start + header_len..];
    let expected = shape
        .iter()
        .try_fold(4usize, |bytes, &n| bytes.checked_mul(n))
        .ok_or_else(|| format!("shape {shape:?} holds more float32 values than memory can"))?;
    if body.len() != expected {
        return Err(format!(
            "data is {} bytes, expected {expected} for shape {shape:?} float32",
            body.len(),
        ));
    }
    let data = body
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(NpyArray { shape, data })
}

/// The raw text of `key`'s value in a NumPy header dict (a tuple keeps its parentheses).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_round_trips() {
        let dir = std::env::temp_dir().join(format!("p2s-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for shape in [vec![5], vec![2, 3], vec![2, 2, 3]] {
            let n = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
            let path = dir.join("a.npy");
            write_f32(&path, &shape, &data).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!((bytes.len() - 4 * n) % 64, 0, "data is 64-byte aligned");
            let back = read_f32(&path).unwrap();
            assert_eq!(back, NpyArray { shape, data });
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_dtype_and_truncation_are_named() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(
            parse(&bytes).unwrap_err(),
            "dtype '<f8' is not supported, expected little-endian float32 ('<f4')"
        );
        let header = header.replace("<f8", "<f4");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0; 4]);
        assert_eq!(
            parse(&bytes).unwrap_err(),
            "data is 4 bytes, expected 8 for shape [2] float32"
        );
        assert_eq!(
            parse(b"hello world").unwrap_err(),
            "not a .npy file (bad magic bytes)"
        );
    }

    /// Regression (found by fuzzing, docs/reliability.md): header text echoed in an error kept
    /// its line breaks, so the error spanned several lines.
    #[test]
    fn header_text_in_errors_stays_on_one_line() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, \n, x), }";
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        assert_eq!(parse(&bytes).unwrap_err(), "bad shape (2, \\n, x)");
        let mut bytes = [&bytes[..10], &header.replace("<f4", "<f\n4").into_bytes()].concat();
        let header_len = (bytes.len() - 10) as u16;
        bytes[8..10].copy_from_slice(&header_len.to_le_bytes());
        assert_eq!(
            parse(&bytes).unwrap_err(),
            "dtype '<f\\n4' is not supported, expected little-endian float32 ('<f4')"
        );
    }

    /// Regression (found by fuzzing, docs/reliability.md): an element count that overflows
    /// panicked, and in release builds wrapped to an empty array of that shape.
    #[test]
    fn overflowing_shape_is_refused() {
        let header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        assert_eq!(
            parse_f32(&bytes, Path::new("d.npy"))
                .unwrap_err()
                .to_string(),
            "d.npy: shape [4294967296, 4294967296] holds more float32 values than memory can"
        );
    }
}
