//! Prints the accuracy (with its Wilson 95 % interval) of the image-only shortcut baselines on
//! 3D-IQTT questions drawn on the fly:
//! `cargo run --release -p pix2scene-scene --example iqtt_shortcuts -- [count] [size] [seed]
//! [questions]` (`questions`: `paper`, `mirror` or `hard`; defaults 3000, 64, 5, `paper`).

use pix2scene_scene::{Generator, GeneratorConfig, Preset, Shortcut, shortcut_accuracies};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let (count, size, seed) = (arg(0, 3000)?, arg(1, 64)? as usize, arg(2, 5)?);
    let mut config = GeneratorConfig::new(Preset::Iqtt, size, seed);
    match args.get(3).map(String::as_str) {
        None | Some("paper") => {}
        Some("mirror") => config.iqtt.mirror_distractor = true,
        Some("hard") => config.iqtt.hard_distractors = true,
        Some(other) => return Err(format!("unknown questions {other:?}").into()),
    }
    let generator = Generator::new(config)?;
    let accuracies = shortcut_accuracies(&generator, 0..count);
    for (shortcut, accuracy) in Shortcut::ALL.iter().zip(accuracies) {
        println!("{:<14} {accuracy}", shortcut.name());
    }
    Ok(())
}
