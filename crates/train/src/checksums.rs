//! A checkpoint's `checksums.b3`: the BLAKE3 digest of each of its files, in the format `b3sum`
//! prints and checks (`b3sum -c checksums.b3` inside the checkpoint verifies it by hand).
//!
//! Every file of a checkpoint is covered, `state.json` included, so a truncated or bit-flipped
//! file is detected before anything is loaded from it; a damaged `checksums.b3` is detected too
//! (an altered digest no longer matches its file, a lost line leaves a required file without
//! one).

use std::path::Path;

use pix2scene_scene::dataset::{file_digest, is_digest};

use crate::error::{Error, Result};

/// File name of the checksums in a checkpoint directory.
pub const CHECKSUMS_FILE: &str = "checksums.b3";

/// Longest `checksums.b3` read, bytes (a checkpoint has a handful of files: about 80 bytes a
/// line).
const MAX_BYTES: u64 = 64 * 1024;

/// The digests of a checkpoint's files, by file name, sorted by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checksums {
    /// `(file name, digest)`: a plain file name and 64 lowercase hexadecimal digits.
    pub entries: Vec<(String, String)>,
}

impl Checksums {
    /// The digests of every file in `dir` (a checkpoint being assembled), read back from the
    /// disk.
    ///
    /// # Errors
    /// [`Error::Io`] naming the directory or file.
    pub fn of_dir(dir: &Path) -> Result<Self> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
            let path = entry.map_err(Error::io(dir))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name == CHECKSUMS_FILE || !path.is_file() {
                continue;
            }
            entries.push((
                name.to_string(),
                file_digest(&path).map_err(Error::io(&path))?,
            ));
        }
        entries.sort();
        Ok(Self { entries })
    }

    /// The text of `checksums.b3`: `DIGEST  NAME` per line, as `b3sum` prints.
    pub fn to_text(&self) -> String {
        self.entries
            .iter()
            .map(|(name, digest)| format!("{digest}  {name}\n"))
            .collect()
    }

    /// Parses the text of a `checksums.b3` (`path` only names it in errors).
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the file and line: a line that is not `DIGEST  NAME`, a
    /// name that is not a plain file name, or a name listed twice.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |line: usize, message: String| Error::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut entries: Vec<(String, String)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let Some((digest, name)) = line.split_once("  ") else {
                return Err(bad(i + 1, "expected `DIGEST  NAME`".into()));
            };
            if !is_digest(digest) {
                return Err(bad(
                    i + 1,
                    "the digest is not 64 lowercase hexadecimal digits".into(),
                ));
            }
            if !is_plain_name(name) {
                return Err(bad(
                    i + 1,
                    format!("{} is not a plain file name", name.escape_debug()),
                ));
            }
            if entries.iter().any(|(n, _)| n == name) {
                return Err(bad(i + 1, format!("{name} is listed twice")));
            }
            entries.push((name.to_string(), digest.to_string()));
        }
        entries.sort();
        Ok(Self { entries })
    }

    /// Reads `dir/checksums.b3`; `None` if the file does not exist.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file, [`Error::Malformed`] for a malformed one,
    /// [`Error::Checkpoint`] for an oversized one.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(CHECKSUMS_FILE);
        let bytes = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path)(e)),
            Ok(m) if m.len() > MAX_BYTES => {
                return Err(Error::Checkpoint {
                    path,
                    message: format!("{} bytes, more than a checkpoint's {MAX_BYTES}", m.len()),
                });
            }
            Ok(_) => std::fs::read(&path).map_err(Error::io(&path))?,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::Checkpoint {
            path: path.clone(),
            message: "not UTF-8 text".into(),
        })?;
        Self::parse(text, &path).map(Some)
    }

    /// Checks that every file of `required` is listed and that every listed file in `dir`
    /// has its digest.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming the first file that is missing, unlisted or altered.
    pub fn verify(&self, dir: &Path, required: &[&str]) -> Result<()> {
        if let Some(name) = required
            .iter()
            .find(|r| !self.entries.iter().any(|(n, _)| n == *r))
        {
            return Err(Error::Checkpoint {
                path: dir.join(CHECKSUMS_FILE),
                message: format!("records no checksum for {name}"),
            });
        }
        for (name, expected) in &self.entries {
            let path = dir.join(name);
            let got = match file_digest(&path) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::Checkpoint {
                        path,
                        message: "missing".into(),
                    });
                }
                Err(e) => return Err(Error::io(&path)(e)),
            };
            if &got != expected {
                return Err(Error::Checkpoint {
                    path,
                    message: format!(
                        "checksum mismatch (blake3 expected {expected}, got {got}): the file \
                         is altered or truncated"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Whether `name` is a file name inside the directory (no separator, not `.` or `..`, no
/// control character).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_bad_lines_are_named() {
        let path = Path::new("c/checksums.b3");
        let d = "a".repeat(64);
        let sums = Checksums {
            entries: vec![
                ("a.bpk".into(), d.clone()),
                ("state.json".into(), d.clone()),
            ],
        };
        assert_eq!(Checksums::parse(&sums.to_text(), path).unwrap(), sums);
        let err = |text: &str| Checksums::parse(text, path).unwrap_err().to_string();
        assert_eq!(
            err(&format!("{d}  a\n{d} b\n")),
            "c/checksums.b3:2: expected `DIGEST  NAME`"
        );
        assert_eq!(
            err(&format!("{}  a\n", "A".repeat(64))),
            "c/checksums.b3:1: the digest is not 64 lowercase hexadecimal digits"
        );
        assert_eq!(
            err(&format!("{d}  ../x\n")),
            "c/checksums.b3:1: ../x is not a plain file name"
        );
        assert_eq!(
            err(&format!("{d}  a\\nb\n").replace("\\n", "\u{1b}")),
            "c/checksums.b3:1: a\\u{1b}b is not a plain file name"
        );
        assert_eq!(
            err(&format!("{d}  a\n{d}  a\n")),
            "c/checksums.b3:2: a is listed twice"
        );
    }
}
