//! How a dataset's records are split into shard files, and which files a `--shard I/N` part
//! writes.

use std::str::FromStr;

use crate::error::{Error, Result};

/// File name of shard `k`.
pub fn shard_file_name(k: usize) -> String {
    format!("shard-{k:05}.safetensors")
}

/// One of `count` disjoint parts of a dataset run (`--shard index/count`): it writes the shard
/// files `k` with `k % count == index`, byte-identical to the same files of the full run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardPart {
    /// Which part, `0..count`.
    pub index: usize,
    /// Number of parts.
    pub count: usize,
}

impl ShardPart {
    /// The whole run.
    pub const ALL: ShardPart = ShardPart { index: 0, count: 1 };

    /// Whether this part writes shard file `k`.
    pub fn owns(&self, k: usize) -> bool {
        k % self.count == self.index
    }
}

impl FromStr for ShardPart {
    type Err = Error;

    /// Parses `I/N`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |message: String| Error::InvalidValue {
            field: "--shard".into(),
            message,
        };
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| bad(format!("expected I/N (e.g. 0/4), got {s:?}")))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| bad(format!("part index {i:?} is not a non-negative integer")))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| bad(format!("part count {n:?} is not a positive integer")))?;
        if count == 0 {
            return Err(bad("part count must be at least 1, got 0".into()));
        }
        if index >= count {
            return Err(bad(format!(
                "part index {index} out of range for {count} parts (valid: 0..{})",
                count - 1
            )));
        }
        Ok(ShardPart { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parts_parse_and_reject_bad_input() {
        assert_eq!(
            "2/4".parse::<ShardPart>().unwrap(),
            ShardPart { index: 2, count: 4 }
        );
        let e = |s: &str| s.parse::<ShardPart>().unwrap_err().to_string();
        assert_eq!(
            e("4/4"),
            "--shard: part index 4 out of range for 4 parts (valid: 0..3)"
        );
        assert_eq!(e("1/0"), "--shard: part count must be at least 1, got 0");
        assert_eq!(e("3"), "--shard: expected I/N (e.g. 0/4), got \"3\"");
        assert_eq!(
            e("a/2"),
            "--shard: part index \"a\" is not a non-negative integer"
        );
    }
}
