//! Atomic file writes: write a temporary file beside the target, then rename it over the
//! target, so that a reader never sees a half-written file and a failed write loses nothing.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Calls `write` with a temporary path in `path`'s directory, then renames the temporary file
/// to `path`. On failure the temporary file is removed and `path` is left as it was.
///
/// # Errors
/// Whatever `write` returns, with an I/O error on the temporary file reported as one on
/// `path`; [`Error::Io`] naming `path` if the rename fails.
pub(crate) fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary_path(path);
    let written = write(&tmp)
        .map_err(|e| name_target(e, &tmp, path))
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })
        });
    if written.is_err() {
        // Best effort: the error that matters is the one being returned.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// [`write_atomic`] of a byte buffer.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub(crate) fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|source| Error::Io {
            path: tmp.to_path_buf(),
            source,
        })
    })
}

/// `e`, with an I/O error on `tmp` (from this crate or the scene and render crates' writers)
/// turned into one on `path`, the file the user asked for.
fn name_target(e: Error, tmp: &Path, path: &Path) -> Error {
    let source = match e {
        Error::Io { path: p, source }
        | Error::Scene(pix2scene_scene::Error::Io { path: p, source })
        | Error::Render(pix2scene_render::Error::Io { path: p, source })
            if p == tmp =>
        {
            source
        }
        other => return other,
    };
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `dir/.name.tmp-PID` for `dir/name`.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Scratch;

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = Scratch::new("atomic");
        let path = dir.join("a.bin");
        write_bytes_atomic(&path, b"old").unwrap();
        let err = write_atomic(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(Error::InvalidValue {
                field: "x".into(),
                message: "failed".into(),
            })
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(&*dir).unwrap().count(), 1);
        write_bytes_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let err = write_bytes_atomic(&dir.join("missing/b.bin"), b"x").unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}", dir.join("missing/b.bin").display()))
        );
    }
}
