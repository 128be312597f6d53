//! The figure of docs/results.md "Turned views from the input view": test records at 0°, 35°,
//! 55° and 80°, one block of four rows per record — the ray-traced image, the true depth, the
//! network's decoding and the post-processed input view warped into the view (as `eval --post
//! OPS` scores it) — depths coloured on the truth's range of the record's four views.
//!
//! ```sh
//! cargo run --release -p pix2scene-eval --example view_strips -- \
//!     models/shapes data/shapes-test mirror,snap,guided,refine:200:5,snap,guided out.png 3 8
//! ```

use std::path::Path;
use std::process::ExitCode;

use pix2scene_eval::export::write_rgb_png;
use pix2scene_eval::view::PAPER_VIEWS_DEG;
use pix2scene_eval::{
    CheckpointChoice, DepthPredictor, PostPipeline, PostProcessed, TrainedModel, ViewExtrapolation,
    open_room_dataset, read_record, view_sample,
};
use pix2scene_scene::RgbImage;
use pix2scene_scene::{depth_range, depth_to_rgb_in};

/// Pixels per map pixel, and between tiles.
const SCALE: usize = 2;
const GAP: usize = 4;

fn run(args: &[String]) -> Result<(), String> {
    let [model, data, post, out, indices @ ..] = args else {
        return Err("usage: view_strips MODEL DATA POST OUT.png INDEX...".into());
    };
    let text = |e: pix2scene_eval::Error| e.to_string();
    let load = || TrainedModel::load(Path::new(model), CheckpointChoice::Best, None).map_err(text);
    let network = load()?;
    let pipeline: PostPipeline = post.parse().map_err(text)?;
    let processed = PostProcessed::new(load()?, pipeline);
    let dir = Path::new(data);
    let reader = open_room_dataset(dir, None).map_err(text)?;
    let views = ViewExtrapolation::new(reader.manifest().config.clone(), PAPER_VIEWS_DEG.to_vec())
        .map_err(text)?;
    let r = network.resolution();
    let tile = r * SCALE + GAP;
    let (width, rows) = (4 * tile - GAP, 4 * indices.len());
    let mut figure = RgbImage {
        width,
        height: rows * tile - GAP,
        data: vec![1.0; width * (rows * tile - GAP) * 3],
    };
    for (block, index) in indices.iter().enumerate() {
        let index: u64 = index
            .parse()
            .map_err(|_| format!("{index}: not a record index"))?;
        let source = read_record(&reader, dir, index).map_err(text)?;
        let truths = views.views(index);
        let turned: Vec<Vec<_>> = truths
            .iter()
            .map(|v| vec![view_sample(&source, v)])
            .collect();
        let sources = [source];
        let net = network.predict(&sources, &turned).map_err(text)?;
        let post = processed.predict(&sources, &turned).map_err(text)?;
        let all_depth: Vec<f32> = truths.iter().flat_map(|v| v.frame.depth.clone()).collect();
        let all_mask: Vec<u8> = truths.iter().flat_map(|v| v.frame.mask.clone()).collect();
        let [lo, hi] = depth_range(&all_depth, &all_mask).ok_or("no valid pixel")?;
        for (col, truth) in truths.iter().enumerate() {
            let mask = &truth.frame.mask;
            let tiles = [
                truth.frame.image.clone(),
                depth_to_rgb_in(&truth.frame.depth, mask, lo, hi),
                depth_to_rgb_in(&net[col], mask, lo, hi),
                depth_to_rgb_in(&post[col], mask, lo, hi),
            ];
            for (row, rgb) in tiles.iter().enumerate() {
                paste(&mut figure, rgb, r, (4 * block + row) * tile, col * tile);
            }
        }
    }
    write_rgb_png(Path::new(out), &figure).map_err(text)
}

/// Pastes an `[r, r, 3]` image at (`top`, `left`), each pixel `SCALE`² pixels.
fn paste(figure: &mut RgbImage, rgb: &[f32], r: usize, top: usize, left: usize) {
    for y in 0..r * SCALE {
        for x in 0..r * SCALE {
            let from = ((y / SCALE) * r + x / SCALE) * 3;
            let to = ((top + y) * figure.width + left + x) * 3;
            figure.data[to..to + 3].copy_from_slice(&rgb[from..from + 3]);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
