//! The on-disk dataset: `manifest.json` plus safetensors shards, written by streaming and read
//! back shard by shard.

mod checksum;
mod layout;
mod manifest;
mod part_manifest;
mod reader;
mod shard_file;
mod writer;

pub use checksum::{digest, file_digest, is_digest, verify};
pub use layout::{ShardPart, shard_file_name};
pub use manifest::{FORMAT_NAME, FORMAT_VERSION, Manifest, OLDEST_FORMAT_VERSION, ShardEntry};
pub use part_manifest::part_manifest_name;
pub use reader::DatasetReader;
pub use writer::{WriteOptions, resume_dataset, write_dataset};
