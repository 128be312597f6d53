//! Test-only helpers: scratch directories.

use std::path::{Path, PathBuf};

/// A fresh, empty directory under the system temporary directory, removed when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// A scratch directory unique to `name` and this process.
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("p2s-eval-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
