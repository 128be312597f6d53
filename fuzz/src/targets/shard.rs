//! Safetensors shards, as a dataset reader unpacks them.

use super::seed_data::seed_datasets;
use crate::target::{AllocBound, Target};

/// `DatasetReader::decode_shard`: the first input byte picks the dataset whose manifest the
/// shard is read against (views, labelled views or 3D-IQTT questions), the rest is the shard.
pub const SHARD: Target = Target {
    name: "shard",
    what: "safetensors shards (decoded against a manifest)",
    seeds,
    dictionary: &[
        b"\"dtype\"",
        b"\"F32\"",
        b"\"U8\"",
        b"\"I64\"",
        b"\"F64\"",
        b"\"shape\"",
        b"\"data_offsets\"",
        b"\"__metadata__\"",
        b"\"image\"",
        b"\"depth\"",
        b"\"mask\"",
        b"\"light_count\"",
        b"\"class\"",
        b"\"answer\"",
        b"[0,0]",
        b"[4294967296,1]",
        b"\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x00\x00\x00\x00\x00\x00\x00\x00",
    ],
    run,
    // The header's tensor table, the tensors' values as vectors (about the input's size), and
    // each record's copies of them.
    bound: AllocBound {
        per_input_byte: 16,
        fixed: 1 << 20,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let Some((&pick, shard)) = data.split_first() else {
        return Err("empty input".into());
    };
    let datasets = seed_datasets();
    let reader = &datasets[pick as usize % datasets.len()].reader;
    reader
        .decode_shard(0, shard)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn seeds() -> Vec<Vec<u8>> {
    seed_datasets()
        .iter()
        .enumerate()
        .map(|(k, d)| [&[k as u8][..], &d.shard].concat())
        .collect()
}
