//! Durable atomic file writes, shared by every crate that writes outside files: a file is
//! written beside its target as `NAME.tmp`, flushed to the disk (`fsync`), renamed over the
//! target, and the directory is flushed after the rename. A reader (or a run resumed after the
//! machine lost power or the process was killed) sees the old file or the new one, never a
//! partial one, and a failed write (a full disk) removes its temporary file and leaves the old
//! file as it was.
//!
//! Temporary names are fixed (`NAME.tmp`, not one per process), so a write killed half way
//! leaves one stale file that the next write of the same target replaces; callers that own a
//! directory may remove leftovers with [`is_temporary`].

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Suffix of the temporary files (and, for checkpoints, directories) of atomic writes.
pub const TEMPORARY_SUFFIX: &str = ".tmp";

/// The temporary path an atomic write of `path` uses: `path` with `.tmp` appended.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(TEMPORARY_SUFFIX);
    PathBuf::from(tmp)
}

/// Whether `path` names the temporary file of an atomic write.
pub fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(TEMPORARY_SUFFIX))
}

/// Calls `write` with the temporary path of `path`, flushes the file it wrote to the disk,
/// renames it to `path` and flushes the directory. If any step fails, the temporary file is
/// removed and `path` is left as it was.
///
/// # Errors
/// Whatever `write` returns; an [`Error::Io`] (converted into `E`) naming `path` if flushing or
/// renaming fails.
pub fn write_atomic_with<E: From<Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let tmp = temporary_path(path);
    let written = write(&tmp).and_then(|()| {
        sync_file(&tmp)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(())
    });
    if written.is_err() {
        // Best effort: the error that matters is the one being returned.
        let _ = std::fs::remove_file(&tmp);
        return written;
    }
    sync_parent(path).map_err(|source| {
        E::from(Error::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// [`write_atomic_with`] of a byte buffer.
///
/// # Errors
/// [`Error::Io`] naming `path` (not its temporary file).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Flushes a written file's data and metadata to the disk.
///
/// # Errors
/// The I/O error of opening or flushing it.
pub fn sync_file(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// Flushes a directory's entries to the disk (after files were created, renamed or removed in
/// it), so that the change survives a power loss.
///
/// # Errors
/// The I/O error of opening or flushing it.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// [`sync_dir`] of the directory holding `path` (the current directory for a bare name).
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty directory unique to `name` and this process.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("p2s-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = scratch("keep");
        let path = dir.join("a.bin");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(Error::Corrupt {
                path: tmp.to_path_buf(),
                message: "failed".into(),
            })
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_target_and_a_stale_temporary_is_replaced() {
        let dir = scratch("stale");
        let path = dir.join("b.json");
        std::fs::write(temporary_path(&path), b"left by a killed write").unwrap();
        assert!(is_temporary(&temporary_path(&path)) && !is_temporary(&path));
        write_atomic(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        assert!(!temporary_path(&path).exists());
        let missing = dir.join("missing/c.bin");
        let err = write_atomic(&missing, b"x").unwrap_err();
        assert_eq!(err.to_string(), missing.display().to_string());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
