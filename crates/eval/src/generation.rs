//! Generation with a trained model: grids of unconditional (or class-conditional) samples
//! `G(z)` with their depth and normals (paper Fig. 8), and latent interpolations between two
//! images (paper Fig. 9).

use pix2scene_scene::{RgbImage, Sample, depth_range, depth_to_rgb_in, normal_to_rgb};
use pix2scene_train::noise::standard_normal;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::trained_model::TrainedModel;

/// Pixels between tiles.
const GAP: usize = 2;

/// Rows of `[size, size, 3]` tiles on a white canvas, `GAP` pixels apart.
pub(crate) fn tile_rows(rows: &[Vec<Vec<f32>>], size: usize) -> RgbImage {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut img = RgbImage::new(cols * (size + GAP) - GAP, rows.len() * (size + GAP) - GAP);
    img.data.fill(1.0);
    for (r, row) in rows.iter().enumerate() {
        for (c, tile) in row.iter().enumerate() {
            img.paste(tile, size, c * (size + GAP), r * (size + GAP));
        }
    }
    img
}

/// Decoded depth maps rendered under their views' lights, as three rows of tiles: images,
/// depth (viridis over the maps' joint range, dark = near) and normals.
///
/// # Shapes
/// `depth`: `[n, R, R]`; `image`, `normal`: `[n, R, R, 3]`.
fn three_rows(depth: &[f32], image: &[f32], normal: &[f32], r: usize) -> [Vec<Vec<f32>>; 3] {
    let (p, p3) = (r * r, 3 * r * r);
    let all = vec![1u8; depth.len()];
    let [lo, hi] = depth_range(depth, &all).unwrap_or([0.0, 1.0]);
    let n = depth.len() / p;
    let one = vec![1u8; p];
    [
        (0..n)
            .map(|k| image[k * p3..(k + 1) * p3].to_vec())
            .collect(),
        (0..n)
            .map(|k| depth_to_rgb_in(&depth[k * p..(k + 1) * p], &one, lo, hi))
            .collect(),
        (0..n)
            .map(|k| normal_to_rgb(&normal[k * p3..(k + 1) * p3], &one))
            .collect(),
    ]
}

/// Latent codes drawn from the prior `N(0, I)`: `[count, z_dim]` from a ChaCha8 stream of
/// `seed` (the same seed, the same codes).
pub fn prior_codes(count: usize, z_dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count * z_dim)
        .map(|_| standard_normal(&mut rng))
        .collect()
}

/// A grid of samples `G(z)`, `z` from the prior (`seed`), each decoded from the camera and
/// rendered under the lights of one of `views` (in turn): for an unconditional model three rows
/// (images, depth, normals) of `views.len()` columns; for a class-conditional one, the same
/// three rows per class, the codes shared between classes (paper Fig. 8).
///
/// # Errors
/// [`Error::InvalidValue`] for no view; the errors of [`TrainedModel::batch`].
pub fn sample_grid(model: &TrainedModel, views: &[Sample], seed: u64) -> Result<RgbImage> {
    if views.is_empty() {
        return Err(Error::InvalidValue {
            field: "--count".into(),
            message: "at least one sample is needed".into(),
        });
    }
    let r = model.resolution();
    let z = prior_codes(views.len(), model.z_dim(), seed);
    let classes: Vec<Option<u32>> = match model.num_classes() {
        0 => vec![None],
        n => (0..n as u32).map(Some).collect(),
    };
    let mut rows = Vec::new();
    for class in classes {
        let views: Vec<Sample> = views
            .iter()
            .map(|v| Sample { class, ..v.clone() })
            .collect();
        let batch = model.batch(&views)?;
        let depth = model.decode(&z, &batch);
        let (image, normal) = model.render(&depth, &batch);
        rows.extend(three_rows(&depth, &image, &normal, r));
    }
    Ok(tile_rows(&rows, r))
}

/// Latent interpolation from image `a` to image `b` (paper Fig. 9): both encoded, `steps` codes
/// `(1 − t)·z_a + t·z_b` at `t = 0, 1/(steps−1), …, 1`, decoded from `a`'s camera (and class)
/// and rendered under its lights. Three rows: `a`, the renders, `b`; then depth and normals of
/// the decoded maps (the first and last columns of those rows left white).
///
/// # Errors
/// [`Error::InvalidValue`] for fewer than two steps; the errors of [`TrainedModel::batch`].
pub fn interpolation_strip(
    model: &TrainedModel,
    a: &Sample,
    b: &Sample,
    steps: usize,
) -> Result<RgbImage> {
    if steps < 2 {
        return Err(Error::InvalidValue {
            field: "--steps".into(),
            message: format!("{steps}: at least 2 are needed (the two ends)"),
        });
    }
    let (r, zd) = (model.resolution(), model.z_dim());
    let z = model.encode(&model.batch(&[a.clone(), b.clone()])?);
    let (za, zb) = z.split_at(zd);
    let codes: Vec<f32> = (0..steps)
        .flat_map(|k| {
            let t = k as f32 / (steps - 1) as f32;
            za.iter().zip(zb).map(move |(x, y)| (1.0 - t) * x + t * y)
        })
        .collect();
    let batch = model.batch(&vec![a.clone(); steps])?;
    let depth = model.decode(&codes, &batch);
    let (image, normal) = model.render(&depth, &batch);
    let [images, depths, normals] = three_rows(&depth, &image, &normal, r);
    let blank = vec![1.0; r * r * 3];
    let framed = |mut row: Vec<Vec<f32>>, first: Vec<f32>, last: Vec<f32>| {
        row.insert(0, first);
        row.push(last);
        row
    };
    Ok(tile_rows(
        &[
            framed(images, a.frame.image.clone(), b.frame.image.clone()),
            framed(depths, blank.clone(), blank.clone()),
            framed(normals, blank.clone(), blank),
        ],
        r,
    ))
}
