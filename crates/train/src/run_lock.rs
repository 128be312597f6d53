//! One training process per run directory: `RUN/train.lock`, held with an exclusive advisory
//! lock (`flock` on Unix, through [`std::fs::File::try_lock`]) for as long as the run trains.
//!
//! The operating system releases the lock when the process ends, however it ends (SIGKILL, a
//! crash, a lost machine), so a killed run never leaves its directory locked: the file stays,
//! the lock does not. The file holds the process id of the run that last took it, to name it
//! when a second run is refused.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// File name of the lock in a run directory.
pub const LOCK_FILE: &str = "train.lock";

/// The held lock of a run directory; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    /// The locked file; the lock lives as long as this handle.
    file: File,
}

impl RunLock {
    /// Takes the lock of run directory `run` (which must exist), without waiting.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming the run directory (and the holder's process id) when
    /// another process holds the lock; [`Error::Io`] naming the lock file when it cannot be
    /// created or locked.
    pub fn acquire(run: &Path) -> Result<Self> {
        let path = run.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(Error::io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // Best effort: the holder may be rewriting its id right now.
                let _ = file.read_to_string(&mut holder);
                let holder = holder
                    .trim()
                    .parse::<u32>()
                    .map_or(String::new(), |pid| format!(" (process {pid})"));
                return Err(Error::Checkpoint {
                    path: run.to_path_buf(),
                    message: format!(
                        "in use by another pix2scene train{holder}: one run per directory; wait \
                         for it to finish or stop it, or choose another --out"
                    ),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path)(e)),
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(Error::io(&path))?;
        Ok(Self { file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("p2s-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let first = RunLock::acquire(&dir).unwrap();
        let pid = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert_eq!(pid, format!("{}\n", std::process::id()));
        let err = RunLock::acquire(&dir).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: in use by another pix2scene train (process {}): one run per directory; \
                 wait for it to finish or stop it, or choose another --out",
                dir.display(),
                std::process::id()
            )
        );
        drop(first);
        let again = RunLock::acquire(&dir).unwrap();
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
