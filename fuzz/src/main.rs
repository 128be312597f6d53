//! `pix2scene-fuzz`: long runs of the mutation engine (what `scripts/fuzz.sh` calls).
//!
//! `pix2scene-fuzz [--inputs N] [--seed S] [TARGET ...]` runs N inputs (default 100,000) on
//! each named target (default: all), prints one line of figures per target, and exits non-zero
//! if any input broke a property (the inputs are saved and their paths printed).
//!
//! `pix2scene-fuzz --write-seeds DIR [TARGET ...]` writes each target's seed files to
//! `DIR/TARGET/`, the starting corpus of the coverage-guided runs.

use std::process::ExitCode;

use pix2scene_fuzz::{Target, fuzz, targets};

fn main() -> ExitCode {
    let mut inputs = 100_000u64;
    let mut seed = 1u64;
    let mut chosen: Vec<&Target> = Vec::new();
    let mut seeds_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let number = |value: Option<String>| value.and_then(|v| v.replace('_', "").parse().ok());
        match arg.as_str() {
            "--inputs" => match number(args.next()) {
                Some(n) => inputs = n,
                None => return usage("--inputs needs a count"),
            },
            "--write-seeds" => match args.next() {
                Some(dir) => seeds_dir = Some(std::path::PathBuf::from(dir)),
                None => return usage("--write-seeds needs a directory"),
            },
            "--seed" => match number(args.next()) {
                Some(n) => seed = n,
                None => return usage("--seed needs a number"),
            },
            name => match targets::ALL.iter().find(|t| t.name == name) {
                Some(t) => chosen.push(t),
                None => return usage(&format!("unknown target {name:?}")),
            },
        }
    }
    if chosen.is_empty() {
        chosen = targets::ALL.to_vec();
    }
    if let Some(dir) = seeds_dir {
        for target in chosen {
            let dir = dir.join(target.name);
            let written = std::fs::create_dir_all(&dir).and_then(|()| {
                (target.seeds)()
                    .iter()
                    .enumerate()
                    .try_for_each(|(k, seed)| std::fs::write(dir.join(format!("seed-{k}")), seed))
            });
            if let Err(e) = written {
                eprintln!("error: {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }
    let mut failed = false;
    for target in chosen {
        let r = fuzz(target, inputs, seed);
        println!(
            "{:<17} {:>9} inputs {:>9.0}/s  accepted {:>7}  rejected {:>9}  outcomes {:>4}  \
             peak {:>9} B (input {} B, {:.0}% of bound)  slowest {:>7.1} ms  failures {}",
            r.target,
            r.inputs,
            r.inputs_per_s(),
            r.accepted,
            r.rejected,
            r.outcomes,
            r.peak_bytes.0,
            r.peak_bytes.1,
            100.0 * r.peak_share,
            r.slowest.as_secs_f64() * 1e3,
            r.failures.len()
        );
        for f in &r.failures {
            println!("  {}: {} ({})", f.kind, f.message, f.input.display());
        }
        failed |= !r.failures.is_empty();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(problem: &str) -> ExitCode {
    let names: Vec<&str> = targets::ALL.iter().map(|t| t.name).collect();
    eprintln!(
        "error: {problem}; usage: pix2scene-fuzz [--inputs N] [--seed S | --write-seeds DIR] [TARGET ...] \
         (targets: {})",
        names.join(", ")
    );
    ExitCode::FAILURE
}
