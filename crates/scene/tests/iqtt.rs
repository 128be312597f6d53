//! 3D-IQTT questions across modules: today's questions pinned byte for byte, the hard questions'
//! invariants, determinism.

use std::path::PathBuf;

use pix2scene_scene::dataset::{ShardPart, WriteOptions, shard_file_name, write_dataset};
use pix2scene_scene::{Generator, GeneratorConfig, Preset};

/// FNV-1a, 64 bits: a hash whose definition cannot change under the test.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn temp_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pix2scene-iqtt-{name}-{}", std::process::id()))
}

/// The bytes of the single shard of `count` questions written with `config`.
fn shard_bytes(config: GeneratorConfig, count: u64, name: &str) -> Vec<u8> {
    let dir = temp_dir(name);
    let options = WriteOptions {
        count,
        part: ShardPart::ALL,
        records_per_shard: None,
        force: true,
        previews: 0,
    };
    write_dataset(&Generator::new(config).unwrap(), &dir, &options, &|_| {}).unwrap();
    let bytes = std::fs::read(dir.join(shard_file_name(0))).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    bytes
}

/// The `iqtt` preset's records, with and without `--mirror-distractor`, are those written before
/// the hard questions existed (hashes taken at commit 1f7b737).
#[test]
fn iqtt_records_are_unchanged_by_the_hard_questions() {
    let plain = GeneratorConfig::new(Preset::Iqtt, 32, 5);
    let mut mirror = plain.clone();
    mirror.iqtt.mirror_distractor = true;
    let got = [
        fnv1a(&shard_bytes(plain, 6, "pinned-plain")),
        fnv1a(&shard_bytes(mirror, 6, "pinned-mirror")),
    ];
    assert_eq!(got, [0x7ef7_4fa6_675c_0597, 0xc8a9_56ab_5345_6299], "{got:x?}");
}
