//! Where test-time refinement can take a depth map: each pipeline of operations applied to every
//! record of a dataset, scored against the truth at 0°, with the surfel renderer's image error
//! beside (docs/results.md, "Why Hausdorff-F stays near the baseline's").
//!
//! ```sh
//! cargo run --release -p pix2scene-eval --example refine_basins -- \
//!     models/boxes data/boxes-val 40 net net,ref200 truth,ref200 net,snap5,ref200,snap5
//! ```
//!
//! Operations, applied left to right: `net` (the model's depth map of the record's image),
//! `truth` (the true depth; where no ray hit, the network's), `snapN` (edge snapping with an
//! N-pixel window and the default 10 % range, as `eval --snap-edges`), `refK` (K steps of the
//! model's test-time refinement, as `eval --refine K`; `refK:T` with each pixel's change capped
//! at T %, as `--post refine:K:T`), `mirror` (the geometric mean with the model's map of the
//! mirrored image, as `--post mirror`), `blurN` (a box filter of radius N, rows
//! then columns, twice: the truth rounded as a network rounds it), `guidedNsM` (the
//! colour-guided median with radius N and σ = M/100, as `eval --guided-median` with other
//! parameters). `truth` is not a predictor: it shows where the refinement's objective has its
//! minima near the true geometry.

use std::path::Path;
use std::process::ExitCode;

use pix2scene_eval::{
    CheckpointChoice, EdgeSnap, GuidedMedian, PostOp, PostPipeline, Scorer, TrainedModel,
    open_room_dataset, read_record,
};

/// One operation of a pipeline.
enum Op {
    Network,
    Truth,
    Blur(usize),
    /// A step of `eval --post`, with its parameters.
    Post(PostOp),
}

impl Op {
    fn parse(text: &str) -> Result<Self, String> {
        let number = |rest: &str| {
            rest.parse::<usize>()
                .map_err(|_| format!("{text}: expected a whole number after the operation"))
        };
        match text {
            "net" => Ok(Self::Network),
            "truth" => Ok(Self::Truth),
            "mirror" => Ok(Self::Post(PostOp::Mirror)),
            _ => match (
                text.strip_prefix("snap"),
                text.strip_prefix("ref"),
                text.strip_prefix("blur"),
            ) {
                (Some(n), _, _) => EdgeSnap::new(number(n)?, 0.1)
                    .map(|snap| Self::Post(PostOp::Snap(snap)))
                    .map_err(|e| e.to_string()),
                (_, Some(k), _) => format!("refine:{k}")
                    .parse::<PostPipeline>()
                    .map(|p| Self::Post(p.ops()[0]))
                    .map_err(|e| e.to_string()),
                (_, _, Some(n)) => Ok(Self::Blur(number(n)?)),
                _ if text.starts_with("guided") => {
                    let (radius, sigma) = text["guided".len()..]
                        .split_once('s')
                        .ok_or(format!("{text}: expected guidedNsM"))?;
                    GuidedMedian::new(number(radius)?, number(sigma)? as f32 / 100.0)
                        .map(|filter| Self::Post(PostOp::Guided(filter)))
                        .map_err(|e| e.to_string())
                }
                _ => Err(format!(
                    "{text}: unknown operation (net, truth, snapN, refK, refK:T, mirror, blurN, guidedNsM)"
                )),
            },
        }
    }
}

/// The sums over records of Hausdorff-F, Hausdorff-R, MSE-depth and the image error.
#[derive(Default)]
struct Sums([f64; 4]);

fn run(args: &[String]) -> Result<(), String> {
    let [model, data, count, pipelines @ ..] = args else {
        return Err("usage: refine_basins MODEL DATA COUNT PIPELINE...".into());
    };
    let count: u64 = count
        .parse()
        .map_err(|_| format!("COUNT = {count}: expected a whole number"))?;
    let pipelines = pipelines
        .iter()
        .map(|p| p.split(',').map(Op::parse).collect::<Result<Vec<_>, _>>())
        .collect::<Result<Vec<_>, _>>()?;
    let model = TrainedModel::load(Path::new(model), CheckpointChoice::Best, None)
        .map_err(|e| e.to_string())?;
    let data = Path::new(data);
    let reader = open_room_dataset(data, Some(model.resolution())).map_err(|e| e.to_string())?;
    let r = model.resolution();
    let mut sums: Vec<Sums> = pipelines.iter().map(|_| Sums::default()).collect();
    for i in 0..count {
        let sample = read_record(&reader, data, i).map_err(|e| e.to_string())?;
        let frame = &sample.frame;
        let scorer = Scorer::new(sample.camera.fov_y_deg, r);
        let batch = model
            .batch(std::slice::from_ref(&sample))
            .map_err(|e| e.to_string())?;
        let network = model.decode(&model.encode(&batch), &batch);
        for (ops, sum) in pipelines.iter().zip(&mut sums) {
            let mut depth = network.clone();
            for op in ops {
                depth = match op {
                    Op::Network => network.clone(),
                    Op::Truth => (frame.depth.iter().zip(&frame.mask).zip(&network))
                        .map(|((&d, &m), &n)| if m != 0 { d } else { n })
                        .collect(),
                    Op::Blur(radius) => blur(&depth, r, *radius),
                    Op::Post(step) => PostPipeline::new(vec![*step])
                        .and_then(|p| p.apply(&model, std::slice::from_ref(&sample), &depth))
                        .map_err(|e| e.to_string())?,
                };
            }
            let m = scorer
                .score(&depth, &frame.depth, &frame.mask)
                .map_err(|e| e.to_string())?;
            let (image, _) = model.render(&depth, &batch);
            let image_error = image
                .iter()
                .zip(&frame.image)
                .map(|(p, q)| f64::from(p - q).powi(2))
                .sum::<f64>()
                / image.len() as f64;
            for (s, v) in
                sum.0
                    .iter_mut()
                    .zip([m.hausdorff_f, m.hausdorff_r, m.mse_depth, image_error])
            {
                *s += v;
            }
        }
    }
    println!("| pipeline | Hausdorff-F | Hausdorff-R | MSE-depth | image error |");
    println!("|---|---|---|---|---|");
    for (name, sum) in args[3..].iter().zip(&sums) {
        let [f, r, mse, image] = sum.0.map(|s| s / count as f64);
        println!("| {name} | {f:.4} | {r:.4} | {mse:.5} | {image:.5} |");
    }
    Ok(())
}

/// A box filter of `radius` pixels, rows then columns, twice (clamped at the borders): a
/// smooth stand-in for the network's rounding of the true map.
fn blur(depth: &[f32], r: usize, radius: usize) -> Vec<f32> {
    let pass = |map: &[f32], step: (usize, usize)| -> Vec<f32> {
        let mut out = vec![0.0; map.len()];
        for y in 0..r {
            for x in 0..r {
                let (mut sum, mut n) = (0.0, 0.0);
                for k in 0..=2 * radius {
                    let o = k as isize - radius as isize;
                    let (yy, xx) = (
                        y as isize + o * step.0 as isize,
                        x as isize + o * step.1 as isize,
                    );
                    if (0..r as isize).contains(&yy) && (0..r as isize).contains(&xx) {
                        sum += map[yy as usize * r + xx as usize];
                        n += 1.0;
                    }
                }
                out[y * r + x] = sum / n;
            }
        }
        out
    };
    let mut map = depth.to_vec();
    for _ in 0..2 {
        map = pass(&pass(&map, (0, 1)), (1, 0));
    }
    map
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
