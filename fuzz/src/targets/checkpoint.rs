//! Checkpoint directories as `train --resume` reads them: `checksums.b3`, `state.json`, the
//! kept refined targets, the weights and both optimizer states.

use std::cell::RefCell;
use std::path::PathBuf;

use pix2scene_train::checkpoint::{CHECKPOINT_FORMAT_VERSION, CheckpointState};
use pix2scene_train::checksums::{CHECKSUMS_FILE, Checksums};
use pix2scene_train::data::SceneSource;
use pix2scene_train::{TrainDevice, TrainPreset, Trainer};

use crate::target::{AllocBound, Target};

/// The files of a checkpoint, in the order the input holds them.
const FILES: [&str; 8] = [
    "state.json",
    CHECKSUMS_FILE,
    "refined-targets.bin",
    "encoder.bpk",
    "decoder.bpk",
    "critic.bpk",
    "optim-generator.bpk",
    "optim-critic.bpk",
];

/// A checkpoint directory written from the input (a flag byte, then per file — `state.json`,
/// `checksums.b3`, `refined-targets.bin`, the three weight files and the two optimizer states,
/// in this order — a 4-byte little-endian length and the bytes; the files after the input's end
/// are absent),
/// loaded by `Trainer::load_checkpoint` (verification, then every parser) into a `tiny-32`
/// trainer that keeps refined targets. With the flag byte's lowest bit set, `checksums.b3` is
/// rewritten for the files as they are, so that mutations reach the parsers behind the
/// checksums.
///
/// Beyond the common properties: a seed's files altered under its unchanged `checksums.b3`
/// must be refused (the target panics otherwise).
pub const CHECKPOINT: Target = Target {
    name: "checkpoint",
    what: "checkpoint directories (checksums, state, targets, weights, optimizer states)",
    seeds,
    dictionary: &[
        b"\"format_version\"",
        b"\"step\"",
        b"\"held_out_mse_depth\"",
        b"\"loss_window\"",
        b"P2SREFT1",
        b"  encoder.bpk\n",
        b"  state.json\n",
        b"../",
        b"18446744073709551615",
        b"null",
    ],
    run,
    // A checkpoint of the tiny model is about 0.4 MB; loading holds its tensors and the
    // optimizer records once more.
    bound: AllocBound {
        per_input_byte: 16,
        fixed: 16 << 20,
    },
};

thread_local! {
    /// This thread's trainer and scratch directory (made by the seeds, outside any input's
    /// memory count).
    static TRAINER: RefCell<Option<(Trainer, PathBuf)>> = const { RefCell::new(None) };
}

/// The `tiny-32` preset with kept refined targets.
fn preset() -> TrainPreset {
    let overrides = [
        "data.train_scenes=8",
        "optim.refine_steps=1",
        "optim.refine_keep=true",
    ]
    .map(String::from);
    TrainPreset::parse(
        include_str!("../../../configs/tiny-32.toml"),
        "configs/tiny-32.toml".as_ref(),
        &overrides,
    )
    .expect("the preset parses")
}

/// Builds this thread's trainer and scratch directory if needed.
fn ensure_trainer() {
    TRAINER.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_none() {
            let preset = preset();
            let size = preset.model.resolution;
            let source = SceneSource::open(&preset.data, size).expect("procedural data");
            let device = TrainDevice::parse("cpu").expect("cpu").autodiff_device();
            let trainer = Trainer::new(&preset, source.renderer_config(size), &device);
            let dir = std::env::temp_dir().join(format!(
                "p2s-fuzz-checkpoint-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            *t = Some((trainer, dir));
        }
    });
}

/// The files of an input: `(name, bytes)`.
type Files<'a> = Vec<(&'static str, &'a [u8])>;

/// The input's flag and files.
fn split(data: &[u8]) -> Result<(u8, Files<'_>), String> {
    let (&flag, mut rest) = data.split_first().ok_or("empty input")?;
    let mut files = Vec::new();
    for name in FILES {
        if rest.is_empty() {
            break;
        }
        let (len, tail) = rest
            .split_at_checked(4)
            .ok_or("length shorter than 4 bytes")?;
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        let (bytes, tail) = tail.split_at_checked(len).ok_or("length past the end")?;
        files.push((name, bytes));
        rest = tail;
    }
    Ok((flag, files))
}

fn run(data: &[u8]) -> Result<(), String> {
    let (flag, files) = split(data)?;
    ensure_trainer();
    let result = TRAINER.with(|t| {
        let mut t = t.borrow_mut();
        let (trainer, root) = t.as_mut().expect("made above");
        let dir = root.join("step-00000001");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("scratch directory: {e}"))?;
        for (name, bytes) in &files {
            std::fs::write(dir.join(name), bytes).map_err(|e| format!("scratch file: {e}"))?;
        }
        if flag & 1 == 1 {
            let _ = std::fs::remove_file(dir.join(CHECKSUMS_FILE));
            let sums = Checksums::of_dir(&dir).map_err(|e| e.to_string())?;
            std::fs::write(dir.join(CHECKSUMS_FILE), sums.to_text())
                .map_err(|e| format!("scratch file: {e}"))?;
        }
        trainer
            .load_checkpoint(&dir)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    if flag & 1 == 0 {
        check_altered_refused(&files, &result);
    }
    result
}

/// Panics if `files` are a seed's with some file other than `checksums.b3` altered, its
/// `checksums.b3` unchanged, and `result` accepted them.
fn check_altered_refused(files: &[(&str, &[u8])], result: &Result<(), String>) {
    let Some((_, sums)) = files.iter().find(|(n, _)| *n == CHECKSUMS_FILE) else {
        return;
    };
    for seed in seeds() {
        let (_, original) = split(&seed).expect("seeds split");
        let same_sums = original
            .iter()
            .any(|(n, b)| *n == CHECKSUMS_FILE && b == sums);
        let altered = files.len() == original.len()
            && files.iter().zip(&original).any(|((_, a), (_, b))| a != b);
        if same_sums && altered {
            assert!(
                result.is_err(),
                "an altered checkpoint under its own checksums.b3 was accepted"
            );
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    thread_local! {
        static SEEDS: Vec<Vec<u8>> = make_seeds();
    }
    ensure_trainer();
    SEEDS.with(Clone::clone)
}

/// A checkpoint of a fresh `tiny-32` trainer with kept targets (two scenes kept), serialized
/// with the flag byte 0 (as written) and 1 (checksums rewritten).
fn make_seeds() -> Vec<Vec<u8>> {
    ensure_trainer();
    TRAINER.with(|t| {
        let mut t = t.borrow_mut();
        let (trainer, root) = t.as_mut().expect("made above");
        let pixels = trainer.preset.model.resolution.pow(2);
        if let Some(kept) = &mut trainer.targets {
            kept.keep(&[3, 5], &vec![1.5; 2 * pixels]);
        }
        let state = CheckpointState {
            format_version: CHECKPOINT_FORMAT_VERSION,
            step: 1,
            held_out_mse_depth: Some(0.25),
            loss_window: Default::default(),
        };
        let saved = trainer
            .save_checkpoint(&root.join("seed"), &state, 1)
            .expect("a fresh trainer saves");
        let mut data = vec![0u8];
        for name in FILES {
            let bytes = std::fs::read(saved.join(name)).expect("a saved file");
            data.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            data.extend_from_slice(&bytes);
        }
        let mut resealed = data.clone();
        resealed[0] = 1;
        vec![data, resealed]
    })
}
