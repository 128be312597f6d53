//! Whole dataset directories, read end to end: manifest, shard sizes and checksums, records.

use std::path::PathBuf;

use pix2scene_scene::dataset::DatasetReader;

use super::seed_data::seed_datasets;
use crate::target::{AllocBound, Target};

/// A dataset directory written from the input (a 4-byte little-endian manifest length, the
/// manifest, then the shard file's bytes), opened with `DatasetReader::open` and read with
/// `records`.
///
/// Beyond the common properties: a shard altered under a seed's unchanged manifest must be
/// refused with a size or checksum mismatch (the target panics otherwise).
pub const DATASET: Target = Target {
    name: "dataset",
    what: "dataset directories end to end (open, verify, read)",
    seeds,
    dictionary: &[
        b"\"blake3\"",
        b"\"bytes\"",
        b"\"shards\"",
        b"\"file\"",
        b"shard-00000.safetensors",
        b"\"format_version\": 1",
        b"\"F32\"",
        b"\"shape\"",
        b"\"data_offsets\"",
    ],
    run,
    // The shard file read whole, its tensors as vectors, and each record's copies.
    bound: AllocBound {
        per_input_byte: 16,
        fixed: 1 << 20,
    },
};

/// This thread's scratch dataset directory.
fn scratch() -> PathBuf {
    thread_local! {
        static DIR: PathBuf = {
            let dir = std::env::temp_dir().join(format!(
                "p2s-fuzz-dataset-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::create_dir_all(&dir);
            dir
        };
    }
    DIR.with(Clone::clone)
}

fn run(data: &[u8]) -> Result<(), String> {
    let (len, rest) = data
        .split_at_checked(4)
        .ok_or("input shorter than 4 bytes")?;
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    let (manifest, shard) = rest
        .split_at_checked(len)
        .ok_or("manifest length too long")?;
    let dir = scratch();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes);
    write("manifest.json", manifest)
        .and_then(|()| write("shard-00000.safetensors", shard))
        .map_err(|e| format!("scratch directory: {e}"))?;
    let result = DatasetReader::open(&dir)
        .and_then(|reader| reader.records().try_for_each(|r| r.map(drop)))
        .map_err(|e| e.to_string());
    let altered = seed_datasets()
        .iter()
        .any(|d| d.manifest == manifest && d.shard != shard);
    if altered {
        let message = result.as_ref().err().map_or("", String::as_str);
        assert!(
            message.contains("size mismatch") || message.contains("checksum mismatch"),
            "an altered shard under its own manifest was not refused by its checksum: {message:?}"
        );
    }
    result
}

fn seeds() -> Vec<Vec<u8>> {
    seed_datasets()
        .iter()
        .inspect(|d| assert_eq!(d.shard_name, "shard-00000.safetensors"))
        .map(|d| {
            let len = (d.manifest.len() as u32).to_le_bytes();
            [&len[..], &d.manifest, &d.shard].concat()
        })
        .collect()
}
