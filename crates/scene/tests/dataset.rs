//! Dataset integrity: shard checksums, and resuming an interrupted `generate`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use pix2scene_scene::dataset::{
    DatasetReader, ShardPart, WriteOptions, digest, resume_dataset, write_dataset,
};
use pix2scene_scene::{Generator, GeneratorConfig, Preset};

/// A fresh, empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("p2s-dataset-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generator(preset: Preset, size: usize, seed: u64) -> Generator {
    Generator::new(GeneratorConfig::new(preset, size, seed)).unwrap()
}

/// 7 boxes records of 16², 2 per shard (4 shards), part `part`.
fn options(part: ShardPart) -> WriteOptions {
    WriteOptions {
        count: 7,
        part,
        records_per_shard: Some(2),
        force: false,
        previews: 3,
    }
}

/// Every file under `dir` (recursively), as (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let name = p.strip_prefix(root).unwrap().display().to_string();
                out.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn names(tree: &[(String, Vec<u8>)]) -> Vec<&str> {
    tree.iter().map(|(n, _)| n.as_str()).collect()
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

/// The full uninterrupted run, written to `dir/full`.
fn full_run(dir: &Path) -> PathBuf {
    let full = dir.join("full");
    write_dataset(
        &generator(Preset::Boxes, 16, 5),
        &full,
        &options(ShardPart::ALL),
        &|_| {},
    )
    .unwrap();
    full
}

#[test]
fn manifest_records_each_shards_size_and_blake3() {
    let dir = scratch("manifest");
    let full = full_run(&dir);
    let reader = DatasetReader::open(&full).unwrap();
    let m = reader.manifest();
    assert_eq!(m.format_version, 2);
    assert_eq!(m.shards.len(), 4);
    for s in &m.shards {
        let bytes = std::fs::read(full.join(&s.file)).unwrap();
        assert_eq!(s.bytes, Some(bytes.len() as u64));
        assert_eq!(s.blake3.as_deref(), Some(digest(&bytes).as_str()));
    }
    // The digest is BLAKE3 (what `b3sum` prints): the published test vector of empty input.
    assert_eq!(
        digest(b""),
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
    assert_eq!(
        names(&tree(&full)),
        [
            "manifest.json",
            "previews/grid.png",
            "shard-00000.safetensors",
            "shard-00001.safetensors",
            "shard-00002.safetensors",
            "shard-00003.safetensors",
        ],
        "no part manifest or temporary file is left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_shard_is_refused_at_open_naming_the_file() {
    let dir = scratch("truncated");
    let full = full_run(&dir);
    let shard = full.join("shard-00002.safetensors");
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..1000]).unwrap();
    let err = DatasetReader::open(&full).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: size mismatch (expected {} bytes, got 1000): the file is altered or truncated; \
             rerun the `pix2scene generate` command that made the dataset, with --resume, to \
             rewrite it",
            shard.display(),
            bytes.len()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn altered_shard_is_refused_when_read_naming_the_file() {
    let dir = scratch("altered");
    let full = full_run(&dir);
    let shard = full.join("shard-00001.safetensors");
    let mut bytes = std::fs::read(&shard).unwrap();
    let (expected, at) = (digest(&bytes), bytes.len() - 100);
    bytes[at] ^= 0x10; // one bit of a float deep in the data: still a valid safetensors file
    std::fs::write(&shard, &bytes).unwrap();
    let reader = DatasetReader::open(&full).unwrap();
    assert!(reader.read_shard(0).is_ok());
    let err = reader.read_shard(1).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: checksum mismatch (blake3 expected {expected}, got {}): the file is altered or \
             truncated; rerun the `pix2scene generate` command that made the dataset, with \
             --resume, to rewrite it",
            shard.display(),
            digest(&bytes)
        )
    );
    assert!(!err.contains('\n'));
    // Reading everything stops at the altered shard.
    let results: Vec<_> = reader.records().collect();
    assert_eq!(results.len(), 3, "shard 0's two records, then the error");
    assert!(results[2].is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rewrites `dir/manifest.json` through `edit` on its JSON value.
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn version_1_manifest_is_read_without_checksums_and_version_2_requires_them() {
    let dir = scratch("v1");
    let full = full_run(&dir);
    let expected: Vec<_> = DatasetReader::open(&full)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    edit_manifest(&full, |v| {
        v["format_version"] = 1.into();
        for s in v["shards"].as_array_mut().unwrap() {
            let s = s.as_object_mut().unwrap();
            s.remove("bytes");
            s.remove("blake3");
        }
    });
    let reader = DatasetReader::open(&full).unwrap();
    let got: Vec<_> = reader.records().map(Result::unwrap).collect();
    assert_eq!(got, expected);
    edit_manifest(&full, |v| v["format_version"] = 2.into());
    let err = DatasetReader::open(&full).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: shards[0] (shard-00000.safetensors) has no bytes and blake3 (format_version 2 \
             records them for every shard)",
            full.join("manifest.json").display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An edit of a manifest's JSON.
type Edit = fn(&mut serde_json::Value);

#[test]
fn hostile_manifest_fields_are_refused_naming_them() {
    let dir = scratch("hostile");
    let full = full_run(&dir);
    let original = std::fs::read_to_string(full.join("manifest.json")).unwrap();
    let manifest = full.join("manifest.json").display().to_string();
    let cases: [(&str, Edit); 6] = [
        ("shards[1].file \"../x\" is not a plain file name", |v| {
            v["shards"][1]["file"] = "../x".into()
        }),
        (
            "shards[2].start is 5, expected 4 (the records of the shards before it)",
            |v| v["shards"][2]["start"] = 5.into(),
        ),
        ("shards[0].count is 0", |v| {
            v["shards"][0]["count"] = 0.into()
        }),
        (
            "shards[3].blake3 \"abc\" is not 64 lowercase hexadecimal digits",
            |v| v["shards"][3]["blake3"] = "abc".into(),
        ),
        ("seed is 6 but config says 5", |v| v["seed"] = 6.into()),
        (
            "config.camera.fov_y_deg: must be in (0, 180), got 200",
            |v| {
                v["fovy_deg"] = 200.into();
                v["config"]["camera"]["fov_y_deg"] = 200.into();
            },
        ),
    ];
    // Regression (found by fuzzing): an unknown key holding an escaped line break made a
    // two-line error.
    std::fs::write(full.join("manifest.json"), &original).unwrap();
    edit_manifest(&full, |v| v["fo\nmat"] = 1.into());
    let err = DatasetReader::open(&full).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{manifest}: unknown field `fo\\nmat`, expected one of"
        )),
        "{err}"
    );
    for (expected, edit) in cases {
        std::fs::write(full.join("manifest.json"), &original).unwrap();
        edit_manifest(&full, edit);
        let err = DatasetReader::open(&full).unwrap_err().to_string();
        assert_eq!(err, format!("{manifest}: {expected}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_after_an_interruption_keeps_good_shards_and_matches_the_full_run() {
    let dir = scratch("resume");
    let full = full_run(&dir);
    let g = generator(Preset::Boxes, 16, 5);
    // An interrupted state: part 0 of 2 finished (shards 0 and 2 and its part manifest), then
    // shard 1 half written (its temporary file), and shard 2 lost.
    let run = dir.join("run");
    write_dataset(
        &g,
        &run,
        &options(ShardPart { index: 0, count: 2 }),
        &|_| {},
    )
    .unwrap();
    assert_eq!(
        names(&tree(&run)),
        [
            "manifest-part-0-of-2.json",
            "previews/grid.png",
            "shard-00000.safetensors",
            "shard-00002.safetensors",
        ]
    );
    let shard1 = std::fs::read(full.join("shard-00001.safetensors")).unwrap();
    std::fs::write(run.join("shard-00001.safetensors.tmp"), &shard1[..500]).unwrap();
    std::fs::remove_file(run.join("shard-00002.safetensors")).unwrap();
    let err = DatasetReader::open(&run).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "manifest.json: missing: the directory holds an unfinished run or a --shard I/N part \
             (manifest-part-0-of-2.json); finish it with the same `pix2scene generate` command \
             and --resume"
        ),
        "{err}"
    );
    let kept = inode(&run.join("shard-00000.safetensors"));
    let done = std::sync::atomic::AtomicU64::new(0);
    resume_dataset(&g, &run, &options(ShardPart::ALL), &|n| {
        done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(tree(&run), tree(&full));
    assert_eq!(
        inode(&run.join("shard-00000.safetensors")),
        kept,
        "a verified shard is not rewritten"
    );
    assert_eq!(done.into_inner(), 7, "progress counts kept records too");

    // With the manifest present, an altered shard is rewritten and the others kept.
    let mut bytes = std::fs::read(run.join("shard-00003.safetensors")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(run.join("shard-00003.safetensors"), &bytes).unwrap();
    let kept = inode(&run.join("shard-00001.safetensors"));
    resume_dataset(&g, &run, &options(ShardPart::ALL), &|_| {}).unwrap();
    assert_eq!(tree(&run), tree(&full));
    assert_eq!(inode(&run.join("shard-00001.safetensors")), kept);

    // Without any record (manifest deleted), nothing can be trusted: every shard is rewritten,
    // and the result is still the full run.
    std::fs::remove_file(run.join("manifest.json")).unwrap();
    resume_dataset(&g, &run, &options(ShardPart::ALL), &|_| {}).unwrap();
    assert_eq!(tree(&run), tree(&full));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_with_other_flags_is_refused_naming_the_flag() {
    let dir = scratch("flags");
    let run = dir.join("run");
    let part = ShardPart { index: 1, count: 2 };
    write_dataset(
        &generator(Preset::Boxes, 16, 5),
        &run,
        &options(part),
        &|_| {},
    )
    .unwrap();
    let recorded = run.join("manifest-part-1-of-2.json").display().to_string();
    let refused = |g: Generator, o: WriteOptions| {
        let before = tree(&run);
        let err = resume_dataset(&g, &run, &o, &|_| {})
            .unwrap_err()
            .to_string();
        assert_eq!(tree(&run), before, "a refused resume changes nothing");
        err
    };
    let tail = "; resume with the flags of the interrupted run, or start over with --force";
    let g = || generator(Preset::Boxes, 16, 5);
    let cases = [
        (
            refused(generator(Preset::Shapes, 16, 5), options(part)),
            format!("--preset: {recorded} records boxes but this run asks for shapes{tail}"),
        ),
        (
            refused(generator(Preset::Boxes, 32, 5), options(part)),
            format!("--size: {recorded} records 16 but this run asks for 32{tail}"),
        ),
        (
            refused(generator(Preset::Boxes, 16, 6), options(part)),
            format!("--seed: {recorded} records 5 but this run asks for 6{tail}"),
        ),
        (
            refused(
                g(),
                WriteOptions {
                    count: 9,
                    ..options(part)
                },
            ),
            format!("--count: {recorded} records 7 but this run asks for 9{tail}"),
        ),
        (
            refused(
                g(),
                WriteOptions {
                    records_per_shard: Some(3),
                    ..options(part)
                },
            ),
            format!(
                "--shard-size: {recorded} records 2 records per shard but this run asks for 3 \
                 records per shard{tail}"
            ),
        ),
        (
            refused(
                {
                    let mut c = GeneratorConfig::new(Preset::Boxes, 16, 5);
                    c.lights.count_min = 2;
                    Generator::new(c).unwrap()
                },
                options(part),
            ),
            format!("--lights: {recorded} records 1 but this run asks for 2{tail}"),
        ),
    ];
    for (got, expected) in cases {
        assert_eq!(got, expected);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resuming_part_leaves_other_parts_files_alone() {
    let dir = scratch("shared");
    let run = dir.join("run");
    let g = generator(Preset::Boxes, 16, 5);
    let (p0, p1) = (
        ShardPart { index: 0, count: 2 },
        ShardPart { index: 1, count: 2 },
    );
    write_dataset(&g, &run, &options(p0), &|_| {}).unwrap();
    // Part 1 is writing its first shard into the same directory right now.
    std::fs::write(run.join("shard-00001.safetensors.tmp"), b"in flight").unwrap();
    std::fs::write(run.join("shard-00002.safetensors.tmp"), b"left by part 0").unwrap();
    resume_dataset(&g, &run, &options(p0), &|_| {}).unwrap();
    assert!(run.join("shard-00001.safetensors.tmp").is_file());
    assert!(!run.join("shard-00002.safetensors.tmp").exists());
    std::fs::remove_file(run.join("shard-00001.safetensors.tmp")).unwrap();
    resume_dataset(&g, &run, &options(p1), &|_| {}).unwrap();
    resume_dataset(&g, &run, &options(ShardPart::ALL), &|_| {}).unwrap();
    assert_eq!(tree(&run), tree(&full_run(&dir)));
    std::fs::remove_dir_all(&dir).unwrap();
}
