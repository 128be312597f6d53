//! What verifying a shard's checksum costs a reader: one default-size shard (about 64 MiB, 564
//! boxes records at 64²) read and unpacked with and without the BLAKE3 check.
//!
//! `cargo bench -p pix2scene-scene --bench dataset`

use std::path::PathBuf;

use pix2scene_scene::dataset::{DatasetReader, ShardPart, WriteOptions, digest, write_dataset};
use pix2scene_scene::{Generator, GeneratorConfig, Preset};

fn main() {
    divan::main();
}

/// A one-shard dataset of the default shard size, written once per process.
fn dataset() -> &'static (PathBuf, DatasetReader) {
    static DATA: std::sync::OnceLock<(PathBuf, DatasetReader)> = std::sync::OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("p2s-bench-dataset-{}", std::process::id()));
        let generator = Generator::new(GeneratorConfig::new(Preset::Boxes, 64, 0)).unwrap();
        let options = WriteOptions {
            count: 564,
            part: ShardPart::ALL,
            records_per_shard: None,
            force: true,
            previews: 0,
        };
        write_dataset(&generator, &dir, &options, &|_| {}).unwrap();
        let reader = DatasetReader::open(&dir).unwrap();
        assert_eq!(reader.manifest().shards.len(), 1, "one shard");
        let path = dir.join(&reader.manifest().shards[0].file);
        (path, reader)
    })
}

/// `read_shard`: read the file, verify size and BLAKE3, unpack the records.
#[divan::bench(sample_count = 10)]
fn read_verified() -> usize {
    dataset().1.read_shard(0).unwrap().len()
}

/// The same without the checksum: read the file and unpack the records.
#[divan::bench(sample_count = 10)]
fn read_unverified() -> usize {
    let (path, reader) = dataset();
    let bytes = std::fs::read(path).unwrap();
    reader.decode_shard(0, &bytes).unwrap().len()
}

/// The checksum alone, on the bytes in memory.
#[divan::bench(sample_count = 10)]
fn blake3_only(bencher: divan::Bencher) {
    let bytes = std::fs::read(&dataset().0).unwrap();
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench(|| digest(&bytes));
}
