//! `pix2scene reconstruct`: what a trained model sees in one image, written as the files people
//! look at and tools read. The files are listed at [`reconstruct`].

use std::path::Path;

use pix2scene_scene::Sample;
use serde::{Deserialize, Serialize};

use crate::edge_snap::EdgeSnap;
use crate::error::{Error, Result};
use crate::export::{
    Surfels, TurntableFrame, write_depth_png, write_image_png, write_normal_png, write_npy,
    write_ply, write_turntable_gif,
};
use crate::input::{CameraFile, bare_sample};
use crate::metrics::{ImageMetrics, Scorer};
use crate::points::PixelRays;
use crate::post::{PostOp, PostPipeline};
use crate::trained_model::TrainedModel;
use crate::view_warp::ViewWarp;

/// Largest turn of the turntable's camera, degrees: frame `k` of `N` is turned by
/// `TURNTABLE_SWEEP_DEG · sin(2πk/N)` about the vertical axis through the look-at point, a
/// swing that loops without a jump and keeps the camera on the scene's side of the room.
pub const TURNTABLE_SWEEP_DEG: f32 = 60.0;

/// Delay between turntable frames, milliseconds.
const TURNTABLE_DELAY_MS: u32 = 100;

/// What to write.
#[derive(Clone, Debug, PartialEq)]
pub struct ReconstructOptions {
    /// Steps of test-time refinement (0 = none).
    pub refine: usize,
    /// Also write the network's map edge-snapped ([`EdgeSnap`]), if given.
    pub snap_edges: Option<EdgeSnap>,
    /// Also write the network's map after this post-processing, if given.
    pub post: Option<PostPipeline>,
    /// Frames of the turntable GIF (at least 1).
    pub turntable_frames: usize,
}

impl Default for ReconstructOptions {
    fn default() -> Self {
        Self {
            refine: 0,
            snap_edges: None,
            post: None,
            turntable_frames: 24,
        }
    }
}

/// One depth map's figures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconstructionScore {
    /// Mean squared difference between the rendered and the input image over all pixels and
    /// channels (the image term the refinement lowers).
    pub image_mse: f64,
    /// Every metric against the record's ground truth (records of a dataset only).
    pub metrics: Option<ImageMetrics>,
}

/// `summary.json`: the network's own output and, reported separately, the refined one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconstructSummary {
    /// The weights used ([`TrainedModel::checkpoint`]).
    pub checkpoint: String,
    /// The decoder's depth map `G(E(x))`.
    pub network: ReconstructionScore,
    /// After `refine_steps` of test-time refinement, if asked for.
    pub refined: Option<ReconstructionScore>,
    /// Steps of refinement.
    pub refine_steps: usize,
    /// The network's map edge-snapped, if asked for.
    pub snapped: Option<ReconstructionScore>,
    /// The network's map after the post-processing, if asked for.
    #[serde(default)]
    pub post: Option<ReconstructionScore>,
    /// The post-processing's steps, as in a label (`edges snapped (5 px, 0.1), …`).
    #[serde(default)]
    pub post_steps: Option<String>,
    /// Turntable frames.
    pub turntable_frames: usize,
}

/// Reconstructs `sample` (a dataset record when `has_truth`, else a bare image with its camera
/// and lights) with `model` and writes these files into `out` (created).
///
/// With `R` the model's resolution:
/// - `input.png`: the image as the encoder sees it; `camera.json`: its camera and lights (the
///   [camera file](crate::input#camera-file) format);
/// - `depth.png` (with a legend) and `depth.npy` (`[R, R]` float32, ray depth, scene units);
/// - `normal.png` and `normal.npy` (`[R, R, 3]`, camera-frame unit normals, Eq. 3);
/// - `render.png`: the depth map rendered by the surfel renderer under the image's lights;
/// - `surfels.ply`: one surfel per pixel (camera frame: position, normal, rendered colour);
/// - `turntable.gif`: the same latent code decoded from cameras turned about the look-at point
///   (see [`TURNTABLE_SWEEP_DEG`]), image | depth | normals per frame;
/// - with `refine > 0`, the same maps after test-time refinement through the renderer,
///   prefixed `refined-`;
/// - with `snap_edges`, the network's maps after edge snapping, prefixed `snapped-`;
/// - with `post`, the network's maps after that post-processing, prefixed `post-`, and, for a
///   pipeline with `guided` or `refine:K`, `post-turntable.gif`: the post-processed map
///   carried into the turntable's views by [`ViewWarp`] (the room planes and the decoded views
///   where it does not reach);
/// - `summary.json` ([`ReconstructSummary`]).
///
/// # Errors
/// [`Error::Model`] for an image of another size than the model's; [`Error::Io`] naming a
/// file that cannot be written; [`Error::InvalidValue`] for no turntable frame.
pub fn reconstruct(
    model: &TrainedModel,
    sample: &Sample,
    has_truth: bool,
    out: &Path,
    options: &ReconstructOptions,
) -> Result<ReconstructSummary> {
    if options.turntable_frames == 0 {
        return Err(Error::InvalidValue {
            field: "turntable frames".into(),
            message: "at least 1 is needed".into(),
        });
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let batch = model.batch(std::slice::from_ref(sample))?;
    let rays = PixelRays::new(sample.camera.fov_y_deg, model.resolution());
    write_image_png(&out.join("input.png"), &rays, &sample.frame.image)?;
    let camera =
        serde_json::to_string_pretty(&CameraFile::of(sample)).map_err(|e| Error::Encode {
            path: out.join("camera.json"),
            message: e.to_string(),
        })?;
    crate::export::write_text(&out.join("camera.json"), &camera)?;
    let z = model.encode(&batch);
    let depth = model.decode(&z, &batch);
    let truth = has_truth.then_some(sample);
    let network = write_maps(model, sample, truth, &depth, out, "")?;
    // The network's map post-processed by `pipeline` (if any), written with file prefix `prefix`:
    // its score and the map.
    let processed = |pipeline: Option<PostPipeline>, prefix: &str| -> Result<_> {
        match pipeline {
            Some(pipeline) => {
                let maps = pipeline.apply(model, std::slice::from_ref(sample), &depth)?;
                let score = write_maps(model, sample, truth, &maps, out, prefix)?;
                Ok(Some((score, maps)))
            }
            None => Ok(None),
        }
    };
    let alone = |op: PostOp| PostPipeline::new(vec![op]);
    let refine = (options.refine > 0).then(|| alone(PostOp::refine(options.refine)));
    let refined = processed(refine.transpose()?, "refined-")?.map(|(score, _)| score);
    let snap = options.snap_edges.map(|snap| alone(PostOp::Snap(snap)));
    let snapped = processed(snap.transpose()?, "snapped-")?.map(|(score, _)| score);
    let post = processed(options.post.clone(), "post-")?;
    let turntable = |path: &str, warped: Option<&[f32]>| {
        write_turntable(
            model,
            sample,
            &z,
            warped,
            &out.join(path),
            options.turntable_frames,
        )
    };
    turntable("turntable.gif", None)?;
    if let (Some(pipeline), Some((_, maps))) = (&options.post, &post)
        && pipeline.input_view_only()
    {
        turntable("post-turntable.gif", Some(maps))?;
    }
    let summary = ReconstructSummary {
        checkpoint: model.checkpoint().to_string(),
        network,
        refined,
        refine_steps: options.refine,
        snapped,
        post: post.map(|(score, _)| score),
        post_steps: options.post.as_ref().map(PostPipeline::to_string),
        turntable_frames: options.turntable_frames,
    };
    let text = serde_json::to_string_pretty(&summary).map_err(|e| Error::Encode {
        path: out.join("summary.json"),
        message: e.to_string(),
    })?;
    crate::export::write_text(&out.join("summary.json"), &text)?;
    Ok(summary)
}

/// Writes the depth, normal, rendered-image and surfel files of one depth map (`[R, R]`) with
/// file names prefixed by `prefix`, and scores it.
fn write_maps(
    model: &TrainedModel,
    sample: &Sample,
    truth: Option<&Sample>,
    depth: &[f32],
    out: &Path,
    prefix: &str,
) -> Result<ReconstructionScore> {
    let r = model.resolution();
    let rays = PixelRays::new(sample.camera.fov_y_deg, r);
    let batch = model.batch(std::slice::from_ref(sample))?;
    let (image, normal) = model.render(depth, &batch);
    let all = vec![1u8; r * r];
    let path = |name: &str| out.join(format!("{prefix}{name}"));
    write_depth_png(&path("depth.png"), &rays, depth, &all)?;
    write_npy(&path("depth.npy"), &[r, r], depth)?;
    write_normal_png(&path("normal.png"), &rays, &normal, &all)?;
    write_npy(&path("normal.npy"), &[r, r, 3], &normal)?;
    write_image_png(&path("render.png"), &rays, &image)?;
    let surfels = Surfels::from_view(&rays, depth, &normal, &image, &all)?;
    write_ply(&path("surfels.ply"), &surfels)?;
    let image_mse = image
        .iter()
        .zip(&sample.frame.image)
        .map(|(a, b)| f64::from(a - b).powi(2))
        .sum::<f64>()
        / image.len() as f64;
    let metrics = truth
        .map(|t| Scorer::new(t.camera.fov_y_deg, r).score(depth, &t.frame.depth, &t.frame.mask))
        .transpose()?;
    Ok(ReconstructionScore { image_mse, metrics })
}

/// Writes the turntable GIF of latent code `z` (`[1, z_dim]`): `frames` views decoded and
/// rendered from `sample`'s camera turned about its look-at point, lights fixed in the world;
/// with `warped`, an input-view map (`[R, R]`) carried into each view by [`ViewWarp`] instead,
/// the decoded view filling what it does not reach.
fn write_turntable(
    model: &TrainedModel,
    sample: &Sample,
    z: &[f32],
    warped: Option<&[f32]>,
    path: &Path,
    frames: usize,
) -> Result<()> {
    let r = model.resolution();
    let views: Vec<Sample> = (0..frames)
        .map(|k| {
            let phase = std::f32::consts::TAU * k as f32 / frames as f32;
            let angle = (TURNTABLE_SWEEP_DEG * phase.sin()).to_radians();
            let mut view = bare_sample(
                vec![0.0; r * r * 3],
                r,
                sample.camera.orbit_y(angle),
                sample.lights.clone(),
            );
            view.class = sample.class;
            view
        })
        .collect();
    let batch = model.batch(&views)?;
    let codes = z.repeat(frames);
    let mut depth = model.decode(&codes, &batch);
    let (p, p3) = (r * r, r * r * 3);
    if let Some(input) = warped {
        let fov = model.renderer_fov_y_deg();
        let input = ViewWarp::default().input(input, &sample.camera, fov, r);
        for (map, view) in depth.chunks_mut(p).zip(&views) {
            let turned = input.view(&view.camera, map);
            map.copy_from_slice(&turned);
        }
    }
    let (image, normal) = model.render(&depth, &batch);
    let tt: Vec<TurntableFrame> = (0..frames)
        .map(|k| TurntableFrame {
            image: image[k * p3..(k + 1) * p3].to_vec(),
            depth: depth[k * p..(k + 1) * p].to_vec(),
            normal: normal[k * p3..(k + 1) * p3].to_vec(),
            mask: vec![1; p],
        })
        .collect();
    let rays = PixelRays::new(sample.camera.fov_y_deg, r);
    write_turntable_gif(path, &rays, &tt, TURNTABLE_DELAY_MS)
}
