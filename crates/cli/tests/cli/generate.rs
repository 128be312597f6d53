//! `pix2scene generate`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pix2scene_scene::dataset::DatasetReader;
use pix2scene_scene::{Preset, Record};

use crate::{assert_fails_with, assert_succeeded, files, pix2scene, scratch};

fn generate(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let out_s = out.to_str().unwrap();
    let mut args = vec![
        "generate",
        "--preset",
        "boxes",
        "--count",
        "5",
        "--size",
        "16",
        "--seed",
        "3",
        "--out",
        out_s,
        "--quiet",
        "--shard-size",
        "2",
    ];
    args.extend_from_slice(extra);
    pix2scene(&args)
}

#[test]
fn same_seed_gives_identical_bytes_for_any_thread_count() {
    let dir = scratch("threads");
    let (a, b) = (dir.join("a"), dir.join("b"));
    assert!(generate(&a, &["--threads", "1"]).status.success());
    assert!(generate(&b, &["--threads", "2"]).status.success());
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), 4, "manifest + 3 shards");
    assert_eq!(fa, fb);
}

#[test]
fn union_of_shard_parts_resumed_is_the_full_run() {
    let dir = scratch("parts");
    let full = dir.join("full");
    assert!(generate(&full, &[]).status.success());
    let merged = dir.join("merged");
    std::fs::create_dir_all(&merged).unwrap();
    for part in ["0/2", "1/2"] {
        let p = dir.join(part.replace('/', "-of-"));
        assert!(generate(&p, &["--shard", part]).status.success());
        // A part alone is not a readable dataset: it lacks the other part's shards.
        let err = DatasetReader::open(&p).unwrap_err().to_string();
        assert!(
            err.contains("holds an unfinished run or a --shard I/N part"),
            "{err}"
        );
        copy_tree(&p, &merged);
    }
    assert!(generate(&merged, &["--resume"]).status.success());
    assert_eq!(tree(&merged), tree(&full));
    let reader = DatasetReader::open(&merged).unwrap();
    let indices: Vec<_> = reader
        .records()
        .map(|r| match r.unwrap() {
            Record::View(s) => s.frame.size_px,
            Record::Question(_) => panic!("boxes gives views"),
        })
        .collect();
    assert_eq!(indices, vec![16; 5]);
}

/// Copies every file under `from` to the same place under `to`.
fn copy_tree(from: &Path, to: &Path) {
    for (name, bytes) in tree(from) {
        let path = to.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn sigkilled_run_resumes_to_the_uninterrupted_bytes() {
    let dir = scratch("kill");
    let args = |out: &Path| -> Vec<String> {
        [
            "generate",
            "--preset",
            "multi-shapes",
            "--count",
            "600",
            "--size",
            "32",
            "--seed",
            "9",
            "--shard-size",
            "6",
            "--threads",
            "1",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let full = dir.join("full");
    assert!(
        pix2scene(&args(&full).iter().map(String::as_str).collect::<Vec<_>>())
            .status
            .success()
    );
    let run = dir.join("run");
    let record = run.join("manifest-part-0-of-1.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pix2scene"))
        .args(args(&run))
        .spawn()
        .unwrap();
    // Kill the run once its part manifest records a finished shard (it is rewritten atomically,
    // so every read sees a whole version).
    let started = Instant::now();
    let sealed = |text: &str| text.matches("\"blake3\"").count();
    loop {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        if sealed(&text) >= 2 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be killed");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no shard was recorded"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    assert!(!run.join("manifest.json").exists());
    assert_ne!(tree(&run), tree(&full));
    let resumed = pix2scene(
        &args(&run)
            .iter()
            .map(String::as_str)
            .chain(["--resume"])
            .collect::<Vec<_>>(),
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(tree(&run), tree(&full));
}

#[test]
fn resume_with_another_seed_is_refused_naming_the_flag() {
    let dir = scratch("reseed");
    let out = dir.join("d");
    assert!(generate(&out, &["--shard", "0/2"]).status.success());
    let before = tree(&out);
    let mut args: Vec<String> = [
        "generate",
        "--preset",
        "boxes",
        "--count",
        "5",
        "--size",
        "16",
        "--seed",
        "4",
        "--shard-size",
        "2",
        "--quiet",
        "--resume",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out.display().to_string());
    assert_fails_with(
        &pix2scene(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        &format!(
            "--seed: {} records 3 but this run asks for 4; resume with the flags of the \
             interrupted run, or start over with --force",
            out.join("manifest-part-0-of-2.json").display()
        ),
    );
    assert_eq!(tree(&out), before);
}

/// Every file under `dir` (recursively), as (relative path, bytes), sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = files(dir);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            out.extend(
                tree(&p)
                    .into_iter()
                    .map(|(n, b)| (format!("{name}/{n}"), b)),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn written_dataset_reads_back_as_the_generated_samples() {
    let dir = scratch("roundtrip");
    let out = dir.join("d");
    assert!(generate(&out, &[]).status.success());
    let reader = DatasetReader::open(&out).unwrap();
    let m = reader.manifest();
    assert_eq!((m.count, m.size, m.seed), (5, 16, 3));
    let generator = pix2scene_scene::Generator::new(m.config.clone()).unwrap();
    for (i, r) in reader.records().enumerate() {
        assert_eq!(r.unwrap(), generator.record(i as u64));
    }
    assert!(out.join("previews/grid.png").is_file());
    assert_eq!(m.preset, Preset::Boxes.name());
}

#[test]
fn hard_iqtt_questions_are_recorded_in_the_manifest_and_read_back() {
    let dir = scratch("hard");
    let out = dir.join("q");
    let o = out.to_str().unwrap();
    let args = [
        "generate",
        "--preset",
        "iqtt",
        "--count",
        "3",
        "--size",
        "16",
        "--seed",
        "2",
        "--out",
        o,
        "--quiet",
        "--hard-distractors",
    ];
    assert!(pix2scene(&args).status.success());
    let reader = DatasetReader::open(&out).unwrap();
    let m = reader.manifest();
    assert!(m.config.iqtt.hard_distractors);
    let generator = pix2scene_scene::Generator::new(m.config.clone()).unwrap();
    for (i, r) in reader.records().enumerate() {
        let r = r.unwrap();
        let Record::Question(q) = &r else {
            panic!("iqtt gives questions")
        };
        let pool = m.config.iqtt.pool_size as i64;
        assert!(q.shape_ids.iter().any(|&id| id >= pool), "a mirror image");
        assert_eq!(r, generator.record(i as u64));
    }
}

#[test]
fn bad_input_is_rejected_with_one_line_naming_the_value() {
    let dir = scratch("bad");
    let out = dir.join("o");
    let o = out.to_str().unwrap();
    let run = |args: &[&str]| pix2scene(args);
    assert_fails_with(
        &run(&["generate", "--preset", "boxs", "--count", "2", "--out", o]),
        "unknown preset \"boxs\"",
    );
    assert_fails_with(
        &run(&["generate", "--preset", "boxes", "--count", "0", "--out", o]),
        "--count: must be at least 1, got 0",
    );
    assert_fails_with(
        &run(&[
            "generate", "--preset", "boxes", "--count", "2", "--size", "15", "--out", o,
        ]),
        "size: must be an even number of pixels from 8 to 8192, got 15",
    );
    assert_fails_with(
        &run(&[
            "generate", "--preset", "boxes", "--count", "2", "--size", "4", "--out", o,
        ]),
        "got 4",
    );
    // Regression: a huge size overflowed the shard-size arithmetic (a panic, or a division by
    // zero in release builds).
    assert_fails_with(
        &run(&[
            "generate",
            "--preset",
            "boxes",
            "--count",
            "1",
            "--size",
            "4294967296",
            "--out",
            o,
        ]),
        "size: must be an even number of pixels from 8 to 8192, got 4294967296",
    );
    assert_fails_with(
        &run(&[
            "generate", "--preset", "boxes", "--count", "2", "--shard", "2/2", "--out", o,
        ]),
        "--shard: part index 2 out of range for 2 parts",
    );
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "user data").unwrap();
    assert_fails_with(
        &run(&[
            "generate", "--preset", "boxes", "--count", "2", "--size", "8", "--out", o,
        ]),
        "is not empty (pass --resume to finish an interrupted run there, or --force to overwrite)",
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "user data"
    );
    let objects = dir.join("objects/mugs");
    std::fs::create_dir_all(&objects).unwrap();
    std::fs::write(
        objects.join("bad.obj"),
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n",
    )
    .unwrap();
    let objects_dir = dir.join("objects");
    assert_fails_with(
        &run(&[
            "generate",
            "--preset",
            "shapenet-like",
            "--count",
            "2",
            "--size",
            "8",
            "--objects",
            objects_dir.to_str().unwrap(),
            "--out",
            dir.join("o2").to_str().unwrap(),
        ]),
        "bad.obj:4:",
    );
}

/// `bench generate --json`: the counts are the flags', and the two rates agree: images per
/// second times milliseconds per image per thread is 1000 · threads.
#[test]
fn bench_generate_prints_consistent_json() {
    let out = pix2scene(&[
        "bench",
        "generate",
        "--preset",
        "shapes",
        "--size",
        "16",
        "--count",
        "40",
        "--threads",
        "2",
        "--json",
    ]);
    assert_succeeded(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["preset"], "shapes");
    for (key, want) in [("size", 16), ("count", 40), ("threads", 2)] {
        assert_eq!(v[key], want, "{key}: {v}");
    }
    let ips = v["images_per_s"].as_f64().unwrap();
    let ms = v["ms_per_image_per_thread"].as_f64().unwrap();
    assert!(ips > 0.0 && (ips * ms / 1000.0 - 2.0).abs() < 1e-9, "{v}");
}
