//! `pix2scene generate`: write a dataset.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_scene::dataset::{ShardPart, WriteOptions, resume_dataset, write_dataset};
use pix2scene_scene::{Generator, GeneratorConfig, Preset};

use crate::progress;

/// Flags of `pix2scene generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Scene family: boxes, boxes-rot, shapes, multi-shapes, shapenet-like, iqtt.
    #[arg(long)]
    preset: String,
    /// Number of images (questions for iqtt).
    #[arg(long)]
    count: u64,
    /// Image side in pixels (even, at least 8).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Base seed: the same seed gives the same bytes on any machine and thread count.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (created; must be empty unless --force or --resume).
    #[arg(long)]
    out: PathBuf,
    /// Write only part I of N (0-based), e.g. 3/8 for a cluster job array.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Records per shard file (default: about 64 MiB per shard).
    #[arg(long)]
    shard_size: Option<usize>,
    /// Overwrite a non-empty output directory.
    #[arg(long)]
    force: bool,
    /// Finish an interrupted run in --out (or merge the --shard parts copied there): shards
    /// that match their recorded checksums are kept, the rest written. Needs the same flags as
    /// the interrupted run.
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Folder of OBJ meshes, one subfolder per category (e.g. a local ShapeNet copy), replacing
    /// the built-in ShapeNet-like objects.
    #[arg(long, value_name = "DIR")]
    objects: Option<PathBuf>,
    /// Cameras anywhere on the sphere around the look-at point instead of the
    /// positive-octant patch.
    #[arg(long)]
    full_sphere_camera: bool,
    /// Random light colours (default: white; iqtt always uses random colours).
    #[arg(long)]
    random_light_colors: bool,
    /// One pure red, one green and one blue light per scene (colour photometric stereo; needs
    /// `--lights 3`).
    #[arg(long)]
    channel_light_colors: bool,
    /// Number of point lights, MIN-MAX or N (1 to 3).
    #[arg(long, value_name = "MIN-MAX")]
    lights: Option<String>,
    /// iqtt: make one distractor the reference's mirror image.
    #[arg(long)]
    mirror_distractor: bool,
    /// iqtt: hard questions: a chiral reference, its mirror image and a foil of its number of
    /// cubes and closest bounding box, at one cube size per question (image-only shortcuts
    /// near chance).
    #[arg(long)]
    hard_distractors: bool,
    /// Number of records shown in previews/ (0 for none).
    #[arg(long, default_value_t = 8)]
    previews: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `pix2scene generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let preset: Preset = args.preset.parse()?;
    let mut config = GeneratorConfig::new(preset, args.size, args.seed);
    config.objects_dir = args.objects;
    config.camera.full_sphere |= args.full_sphere_camera;
    config.lights.random_colors |= args.random_light_colors;
    config.lights.channel_colors = args.channel_light_colors;
    config.iqtt.mirror_distractor = args.mirror_distractor;
    config.iqtt.hard_distractors = args.hard_distractors;
    if let Some(spec) = &args.lights {
        (config.lights.count_min, config.lights.count_max) = parse_range(spec)?;
    }
    let part = match &args.shard {
        Some(s) => s.parse::<ShardPart>()?,
        None => ShardPart::ALL,
    };
    let generator = Generator::new(config)?;
    let options = WriteOptions {
        count: args.count,
        part,
        records_per_shard: args.shard_size,
        force: args.force,
        previews: args.previews,
    };
    let bar = progress::bar(
        args.count.div_ceil(part.count as u64),
        "records",
        args.quiet,
    );
    let write = if args.resume {
        resume_dataset
    } else {
        write_dataset
    };
    let manifest = write(&generator, &args.out, &options, &|n| bar.inc(n))
        .with_context(|| format!("generating {} into {}", preset, args.out.display()))?;
    bar.finish_and_clear();
    if !args.quiet {
        let held = manifest.shards.iter().filter(|s| s.is_sealed()).count();
        eprintln!(
            "{} holds {held} of {} shard(s) of {} {preset} record(s) at {}²{}",
            args.out.display(),
            manifest.shards.len(),
            manifest.count,
            manifest.size,
            if held < manifest.shards.len() {
                "; copy the other parts there and finish with --resume"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Parses `N` or `MIN-MAX`.
fn parse_range(spec: &str) -> anyhow::Result<(usize, usize)> {
    let parse = |s: &str| {
        s.trim()
            .parse::<usize>()
            .with_context(|| format!("--lights: {s:?} is not a count"))
    };
    Ok(match spec.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let n = parse(spec)?;
            (n, n)
        }
    })
}
