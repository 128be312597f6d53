//! `pix2scene report`: one self-contained HTML page about a trained model — its training curves
//! (inline SVG), its evaluation tables beside the paper's, sample grids, reconstructions,
//! view-extrapolation strips and a turntable, every image embedded as base64.

mod svg_plot;

use std::fmt::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use pix2scene_scene::{RgbImage, Sample, depth_range, depth_to_rgb_in, normal_to_rgb};
use pix2scene_train::MetricsRecord;
use pix2scene_train::baselines::DepthBaselines;

pub use svg_plot::{Series, line_plot};

use crate::dataset::{open_room_dataset, read_record};
use crate::error::{Error, Result};
use crate::evaluate::{EvalOptions, evaluate, view_sample};
use crate::export::{encode_png, write_text};
use crate::generation::{sample_grid, tile_rows};
use crate::metrics::Metric;
use crate::paper::paper_row;
use crate::reconstruct::{ReconstructOptions, reconstruct};
use crate::summary::EvalResult;
use crate::trained_model::TrainedModel;
use crate::view::ViewExtrapolation;

/// What the report covers.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// A dataset to evaluate on and reconstruct from (a test set); without it, the report shows
    /// the run's own held-out scenes and no evaluation table.
    pub data: Option<PathBuf>,
    /// The evaluation (views, records scored).
    pub eval: EvalOptions,
    /// Scenes shown as reconstructions (and samples drawn per row).
    pub examples: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            data: None,
            eval: EvalOptions {
                limit: Some(200),
                ..EvalOptions::default()
            },
            examples: 4,
        }
    }
}

/// Writes the report of `model` to `out` (atomically) and returns its evaluation, if any.
/// `progress` follows the evaluation as in [`evaluate`].
///
/// # Errors
/// A malformed `metrics.jsonl` or `baselines.json` (naming the file and line), the errors of
/// [`evaluate`] and [`reconstruct`], and I/O errors naming the file.
pub fn write_report(
    model: &TrainedModel,
    options: &ReportOptions,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Option<EvalResult>> {
    let run = model.dir();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pix2scene \
         report: {0}</title><style>{STYLE}</style></head><body><h1>pix2scene report</h1>\
         <p>Run <code>{0}</code>, weights <b>{1}</b>, {2}² images, z of {3} dimensions{4}.</p>",
        escape(&run.display().to_string()),
        escape(model.checkpoint()),
        model.resolution(),
        model.z_dim(),
        match model.num_classes() {
            0 => String::new(),
            n => format!(", {n} classes"),
        }
    );
    html.push_str(&curves(run)?);
    let (examples, truth) = match &options.data {
        Some(dir) => {
            let reader = open_room_dataset(dir, Some(model.resolution()))?;
            let n = (options.examples as u64).min(reader.len());
            let samples = (0..n)
                .map(|i| read_record(&reader, dir, i))
                .collect::<Result<Vec<_>>>()?;
            (samples, true)
        }
        None => (model.held_out(options.examples)?, false),
    };
    let result = match &options.data {
        Some(dir) => {
            let result = evaluate(dir, model, &options.eval, progress)?;
            let _ = write!(
                html,
                "<h2>Evaluation</h2><p>Dataset <code>{}</code>.</p>{}",
                escape(&dir.display().to_string()),
                eval_table(&result)
            );
            Some(result)
        }
        None => None,
    };
    html.push_str("<h2>Reconstructions</h2><p>Input | re-rendered | ");
    html.push_str(if truth {
        "true depth | predicted depth | true normals | predicted normals (depth colours: \
         viridis over the true range, dark = near).</p>"
    } else {
        "predicted depth | predicted normals.</p>"
    });
    html.push_str(&figure(
        &reconstructions(model, &examples, truth)?,
        "reconstructions",
        model.resolution(),
    )?);
    if let Some(dir) = &options.data {
        html.push_str(&view_strips(model, dir, &examples, &options.eval.views)?);
    }
    if let Some(first) = examples.first() {
        html.push_str(&turntable(model, first, out)?);
    }
    let views = model.held_out(options.examples.max(1))?;
    let _ = write!(
        html,
        "<h2>Samples</h2><p>G(z), z from the prior, from the cameras of held-out scenes: images, \
         depth, normals{}.</p>{}",
        if model.num_classes() > 0 {
            " (one block of three rows per class)"
        } else {
            ""
        },
        figure(
            &sample_grid(model, &views, 0)?,
            "samples",
            model.resolution()
        )?
    );
    if let Some(grid) = latest_training_grid(run)? {
        let _ = write!(
            html,
            "<h2>Training samples</h2><p><code>{}</code></p>{}",
            escape(&grid.0),
            img(&grid.1, "training samples", 1100)
        );
    }
    html.push_str("</body></html>\n");
    write_text(out, &html)?;
    Ok(result)
}

/// The page's style sheet.
const STYLE: &str = "body{font-family:sans-serif;max-width:1150px;margin:1em auto;color:#222}\
    img{image-rendering:pixelated;max-width:100%;border:1px solid #ccc}\
    table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:right;\
    border-bottom:1px solid #eee}th{background:#f4f4f4}td:first-child,td:nth-child(2)\
    {text-align:left}.plots svg{margin:4px;border:1px solid #eee}code{background:#f4f4f4}";

/// HTML-escapes text.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An `<img>` of PNG or GIF bytes, embedded as base64, shown `width` pixels wide (at most the
/// page's width).
fn img(bytes: &[u8], alt: &str, width: usize) -> String {
    let mime = if bytes.starts_with(b"GIF") {
        "image/gif"
    } else {
        "image/png"
    };
    format!(
        "<p><img alt=\"{alt}\" width=\"{width}\" src=\"data:{mime};base64,{}\"></p>",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Magnification of images of `size`-pixel tiles on the page (small tiles shown larger).
fn zoom(size: usize) -> usize {
    (192 / size.max(1)).clamp(1, 4)
}

/// An image embedded as PNG, magnified by [`zoom`] of its tile `size`.
fn figure(image: &RgbImage, alt: &str, size: usize) -> Result<String> {
    let bytes = encode_png(image).map_err(|message| Error::Encode {
        path: PathBuf::from(alt),
        message,
    })?;
    Ok(img(&bytes, alt, image.width * zoom(size)))
}

/// The training curves of `run/metrics.jsonl` (and the baselines of `run/baselines.json`).
fn curves(run: &Path) -> Result<String> {
    let path = run.join("metrics.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok("<h2>Training</h2><p>No metrics.jsonl (a model directory).</p>".into());
    };
    let records = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<MetricsRecord>(l).map_err(|e| Error::Input {
                path: path.clone(),
                message: format!("line {}: {e}", i + 1),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let series = |name: &str, f: &dyn Fn(&MetricsRecord) -> Option<f32>| Series {
        name: name.into(),
        points: records
            .iter()
            .filter_map(|r| f(r).map(|v| (r.step as f64, f64::from(v))))
            .collect(),
        dashed: false,
    };
    let losses = [
        series("recon_x", &|r| Some(r.losses.recon_x)),
        series("recon_z", &|r| Some(r.losses.recon_z)),
        series("planarity", &|r| Some(r.losses.planarity)),
    ];
    let critic = [
        series("Wasserstein", &|r| Some(r.losses.wasserstein)),
        series("critic", &|r| Some(r.losses.critic)),
    ];
    let mut held = vec![
        series("MSE-depth", &|r| r.held_out_mse_depth),
        series("best scale", &|r| r.held_out_mse_depth_scaled),
    ];
    let baselines_path = run.join("baselines.json");
    if let Ok(text) = std::fs::read_to_string(&baselines_path) {
        let b: DepthBaselines = serde_json::from_str(&text).map_err(|e| Error::Input {
            path: baselines_path,
            message: e.to_string(),
        })?;
        let steps = records.iter().map(|r| r.step as f64);
        let (s0, s1) = (steps.clone().fold(0.0, f64::min), steps.fold(0.0, f64::max));
        for (name, v) in [
            ("per-pixel mean", b.per_pixel_mean),
            ("global mean", b.global_mean),
        ] {
            held.push(Series {
                name: name.into(),
                points: vec![(s0, f64::from(v)), (s1, f64::from(v))],
                dashed: true,
            });
        }
    }
    Ok(format!(
        "<h2>Training</h2><p>{} log lines of <code>metrics.jsonl</code>; held-out depth MSE \
         beside the image-blind baselines (dashed).</p><div class=\"plots\">{}{}{}</div>",
        records.len(),
        line_plot("Reconstruction losses", "step", &losses, true),
        line_plot("Critic", "step", &critic, false),
        line_plot("Held-out MSE-depth", "step", &held, true),
    ))
}

/// An HTML table of an evaluation, with the paper's figures where it has them.
fn eval_table(result: &EvalResult) -> String {
    let extrapolation = result.views.iter().any(|(a, _)| *a != 0.0);
    let preset = result.preset.as_deref().unwrap_or("");
    let mut html = format!(
        "<p>{} images, preset {}, weights {}; mean ± std over images.</p><table><tr><th>view\
         </th><th>metric</th><th>ours</th><th>paper</th></tr>",
        result.images,
        escape(preset),
        escape(result.checkpoint.as_deref().unwrap_or("-"))
    );
    for (angle, summary) in &result.views {
        let paper = paper_row(preset, *angle, extrapolation);
        for (k, m) in Metric::ALL.into_iter().enumerate() {
            let s = summary.get(m);
            let theirs = paper
                .and_then(|p| p.get(m).map(|v| format!("{v} ({})", p.table)))
                .unwrap_or_else(|| "–".into());
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{:.4} ± {:.4}</td><td>{theirs}</td></tr>",
                if k == 0 {
                    format!("{angle}°")
                } else {
                    String::new()
                },
                m.label(),
                s.mean,
                s.std
            );
        }
    }
    html.push_str("</table>");
    html
}

/// Depth tiles of `maps` (`[R, R]` each) coloured over the range of the first, dark = near.
fn depth_tiles(maps: &[&[f32]], mask: &[u8]) -> Vec<Vec<f32>> {
    let [lo, hi] = depth_range(maps[0], mask).unwrap_or([0.0, 1.0]);
    maps.iter()
        .map(|d| depth_to_rgb_in(d, mask, lo, hi))
        .collect()
}

/// One row per example: input, re-rendered, (true depth,) predicted depth, (true normals,)
/// predicted normals.
fn reconstructions(model: &TrainedModel, examples: &[Sample], truth: bool) -> Result<RgbImage> {
    let r = model.resolution();
    let batch = model.batch(examples)?;
    let depth = model.decode(&model.encode(&batch), &batch);
    let (image, normal) = model.render(&depth, &batch);
    let (p, p3, all) = (r * r, 3 * r * r, vec![1u8; r * r]);
    let rows: Vec<Vec<Vec<f32>>> = examples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let f = &s.frame;
            let pred = &depth[i * p..(i + 1) * p];
            let pred_n = normal_to_rgb(&normal[i * p3..(i + 1) * p3], &all);
            let mut row = vec![f.image.clone(), image[i * p3..(i + 1) * p3].to_vec()];
            if truth {
                row.extend(depth_tiles(&[&f.depth, pred], &f.mask));
                row.extend([normal_to_rgb(&f.normal, &f.mask), pred_n]);
            } else {
                row.extend(depth_tiles(&[pred], &all));
                row.push(pred_n);
            }
            row
        })
        .collect();
    Ok(tile_rows(&rows, r))
}

/// View-extrapolation strips of the first two examples: per view, the ray-traced truth and the
/// model's render, then true and predicted depth.
fn view_strips(
    model: &TrainedModel,
    dir: &Path,
    examples: &[Sample],
    views: &[f32],
) -> Result<String> {
    let config = open_room_dataset(dir, None)?.manifest().config.clone();
    let extrapolation = ViewExtrapolation::new(config, views.to_vec())?;
    let r = model.resolution();
    let (p, p3) = (r * r, 3 * r * r);
    let mut html = format!(
        "<h2>View extrapolation</h2><p>Views {} (degrees). Rows: ray-traced truth, the model's \
         render of the code of the 0° image decoded at that view, true depth, predicted depth.\
         </p>",
        views
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (index, source) in examples.iter().take(2).enumerate() {
        let truths = extrapolation.views(index as u64);
        let turned: Vec<Sample> = truths.iter().map(|t| view_sample(source, t)).collect();
        let z = model.encode(&model.batch(std::slice::from_ref(source))?);
        let batch = model.batch(&turned)?;
        let depth = model.decode(&z.repeat(turned.len()), &batch);
        let (image, _) = model.render(&depth, &batch);
        let mut rows = vec![Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for (k, t) in turned.iter().enumerate() {
            let f = &t.frame;
            let pred = &depth[k * p..(k + 1) * p];
            let tiles = depth_tiles(&[&f.depth, pred], &f.mask);
            rows[0].push(f.image.clone());
            rows[1].push(image[k * p3..(k + 1) * p3].to_vec());
            rows[2].push(tiles[0].clone());
            rows[3].push(tiles[1].clone());
        }
        html.push_str(&figure(&tile_rows(&rows, r), "view extrapolation", r)?);
    }
    Ok(html)
}

/// The turntable of the first example, made by [`reconstruct`] in a scratch directory beside
/// `out` (removed afterwards).
fn turntable(model: &TrainedModel, sample: &Sample, out: &Path) -> Result<String> {
    let scratch = out.with_extension("parts.tmp");
    let written = reconstruct(
        model,
        sample,
        false,
        &scratch,
        &ReconstructOptions::default(),
    )
    .and_then(|_| {
        let path = scratch.join("turntable.gif");
        std::fs::read(&path).map_err(|source| Error::Io { path, source })
    });
    // Best effort: the scratch directory holds copies only.
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(format!(
        "<h2>Turntable</h2><p>The first scene's code decoded from cameras swung about the \
         look-at point: image | depth | normals.</p>{}",
        img(
            &written?,
            "turntable",
            crate::export::turntable_frame_size(model.resolution()).0 * zoom(model.resolution())
        )
    ))
}

/// The newest `samples/step-*.png` of a run: its name and bytes.
fn latest_training_grid(run: &Path) -> Result<Option<(String, Vec<u8>)>> {
    let dir = run.join("samples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let newest = entries
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with("step-") && n.ends_with(".png"))
        .max();
    newest
        .map(|name| {
            let path = dir.join(&name);
            std::fs::read(&path)
                .map(|bytes| (format!("samples/{name}"), bytes))
                .map_err(|source| Error::Io { path, source })
        })
        .transpose()
}
