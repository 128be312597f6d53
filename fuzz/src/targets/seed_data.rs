//! Seed files written by the project itself: small datasets of each record kind.

use std::path::PathBuf;
use std::sync::OnceLock;

use pix2scene_scene::dataset::{DatasetReader, ShardPart, WriteOptions, write_dataset};
use pix2scene_scene::{Generator, GeneratorConfig, Preset};

/// A one-shard dataset written at start-up: its files' bytes and a reader opened on it.
pub struct SeedDataset {
    /// The manifest's text.
    pub manifest: Vec<u8>,
    /// The shard file's bytes.
    pub shard: Vec<u8>,
    /// The shard file's name.
    pub shard_name: String,
    /// A reader of the dataset (its directory stays on disk for the process).
    pub reader: DatasetReader,
}

/// One dataset per record layout: plain views (`boxes`), views with class labels
/// (`shapenet-like`) and 3D-IQTT questions, each 8² with a few records in one shard.
pub fn seed_datasets() -> &'static [SeedDataset] {
    static DATA: OnceLock<Vec<SeedDataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("p2s-fuzz-seeds-{}", std::process::id()));
        [
            (Preset::Boxes, 3),
            (Preset::ShapenetLike, 2),
            (Preset::Iqtt, 2),
        ]
        .into_iter()
        .map(|(preset, count)| {
            let dir: PathBuf = root.join(preset.name());
            let generator = Generator::new(GeneratorConfig::new(preset, 8, 1))
                .expect("the default config is valid");
            let options = WriteOptions {
                count,
                part: ShardPart::ALL,
                records_per_shard: None,
                force: true,
                previews: 0,
            };
            let manifest = write_dataset(&generator, &dir, &options, &|_| {})
                .expect("seed datasets are written to the temporary directory");
            let shard_name = manifest.shards[0].file.clone();
            let read = |name: &str| std::fs::read(dir.join(name)).expect("just written");
            SeedDataset {
                manifest: read("manifest.json"),
                shard: read(&shard_name),
                shard_name,
                reader: DatasetReader::open(&dir).expect("just written"),
            }
        })
        .collect()
    })
}
