//! The on-disk dataset: `manifest.json` plus safetensors shards, written by streaming and read
//! back shard by shard.

mod layout;
mod manifest;
mod reader;
mod writer;

pub use layout::{ShardPart, shard_file_name};
pub use manifest::{FORMAT_NAME, FORMAT_VERSION, Manifest, ShardEntry};
pub use reader::DatasetReader;
pub use writer::{WriteOptions, write_dataset};
