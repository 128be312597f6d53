//! The sample grids of a run (`RUN/samples/`): held-out reconstructions and samples, and for a
//! run that keeps refined targets, the targets beside the reconstructions of training scenes.

use std::path::Path;

use crate::batch::{HostBatch, host_values, tensor};
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::grid::{TileGrid, chw_to_hwc, depth_tile, normal_tile};
use crate::noise::IterationNoise;
use crate::trainer::Trainer;

/// The validity mask of scene `i` of a batch, as the tile functions take it.
fn row_mask(batch: &HostBatch, i: usize) -> Vec<u8> {
    let p = batch.size * batch.size;
    batch.mask[i * p..(i + 1) * p]
        .iter()
        .map(|&m| u8::from(m > 0.0))
        .collect()
}

/// Writes the sample grids of `step` into `RUN/samples/`: `step-NNNNNNNN.png` of the held-out
/// batch and, for a run that keeps refined targets, `targets-step-NNNNNNNN.png` of the last
/// refined one.
pub fn write_grids(
    trainer: &Trainer,
    held_out: &HostBatch,
    refined: Option<&HostBatch>,
    out: &Path,
    step: u64,
) -> Result<()> {
    let dir = out.join("samples");
    write_samples(trainer, held_out, &dir, step)?;
    if let Some(b) = refined {
        write_targets(trainer, b, &dir, step)?;
    }
    Ok(())
}

/// Writes `samples/targets-step-NNNNNNNN.png` for a run that keeps refined targets: one row per
/// scene of the last encoder/decoder batch (training scenes) with input | ground-truth depth |
/// kept refined depth | reconstructed depth | ground-truth normals | refined normals |
/// reconstructed normals. Each depth tile is coloured over its joint range with the ground
/// truth.
fn write_targets(trainer: &Trainer, batch: &HostBatch, dir: &Path, step: u64) -> Result<()> {
    let Some(kept) = &trainer.targets else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let device = trainer.device().clone().inner();
    let (n, s) = (batch.batch, batch.size);
    let (p, p3) = (s * s, s * s * 3);
    let db = trainer.upload(batch);
    let (lp, lc) = (db.light_pos.clone().inner(), db.light_color.clone().inner());
    let (_, depth) = trainer.reconstruct(&db);
    let rec_depth = host_values(depth.clone());
    let refined = kept.starts(&batch.scene, &rec_depth);
    let rec = trainer.renderer().forward(depth, lp.clone(), lc.clone());
    let target_render = trainer
        .renderer()
        .forward(tensor(&refined, [n, s, s], &device), lp, lc);
    let (input, rec_normal, target_normal) = (
        host_values(db.image.inner()),
        host_values(rec.normals),
        host_values(target_render.normals),
    );
    let all_valid = vec![1u8; p];
    let mut grid = TileGrid::new(n, 7, s);
    for i in 0..n {
        let mask = row_mask(batch, i);
        let (px, px3) = (i * p..(i + 1) * p, i * p3..(i + 1) * p3);
        let truth = &batch.depth[px.clone()];
        grid.put(i, 0, &chw_to_hwc(&input[px3.clone()], s));
        grid.put(i, 1, &depth_tile(truth, truth, &mask));
        grid.put(i, 2, &depth_tile(&refined[px.clone()], truth, &mask));
        grid.put(i, 3, &depth_tile(&rec_depth[px], truth, &mask));
        grid.put(i, 4, &normal_tile(&batch.normal[px3.clone()], &mask));
        grid.put(i, 5, &normal_tile(&target_normal[px3.clone()], &all_valid));
        grid.put(i, 6, &normal_tile(&rec_normal[px3], &all_valid));
    }
    let name = format!("targets-{}.png", checkpoint::checkpoint_name(step));
    grid.write_png(&dir.join(name))
}

/// Writes `samples/step-NNNNNNNN.png`: one row per held-out scene with input (as the encoder
/// sees it) | reconstruction | ground-truth depth | reconstructed depth | ground-truth normals |
/// reconstructed normals | random sample G(z) | its depth | its normals (same camera and
/// lights).
fn write_samples(trainer: &Trainer, batch: &HostBatch, dir: &Path, step: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let device = trainer.device().clone().inner();
    let (n, s) = (batch.batch, batch.size);
    let db = trainer.upload(batch);
    let (lp, lc) = (db.light_pos.clone().inner(), db.light_color.clone().inner());
    let (_, depth) = trainer.reconstruct(&db);
    let rec = trainer
        .renderer()
        .forward(depth.clone(), lp.clone(), lc.clone());
    // One code per held-out scene: the first `n` of a batch's (fewer held-out scenes than
    // the batch leave the grid with fewer rows).
    let z_dim = trainer.preset.model.z_dim;
    let z = IterationNoise::draw(&trainer.preset, u64::MAX - step).generator_z;
    let z = tensor(&z[..n * z_dim], [n, z_dim], &device);
    let gen_depth = trainer.decode(z, &db);
    let generated = trainer.renderer().forward(gen_depth.clone(), lp, lc);
    let input = host_values(db.image.inner());
    let (rec_img, rec_normal, rec_depth) = (
        host_values(rec.image),
        host_values(rec.normals),
        host_values(depth),
    );
    let (gen_img, gen_normal, gen_depth) = (
        host_values(generated.image),
        host_values(generated.normals),
        host_values(gen_depth),
    );
    let (p, p3) = (s * s, s * s * 3);
    let all_valid = vec![1u8; p];
    let mut grid = TileGrid::new(n, 9, s);
    for i in 0..n {
        let mask = row_mask(batch, i);
        let gt_depth = &batch.depth[i * p..(i + 1) * p];
        grid.put(i, 0, &chw_to_hwc(&input[i * p3..(i + 1) * p3], s));
        grid.put(i, 1, &chw_to_hwc(&rec_img[i * p3..(i + 1) * p3], s));
        grid.put(
            i,
            2,
            &depth_tile(gt_depth, &rec_depth[i * p..(i + 1) * p], &mask),
        );
        grid.put(
            i,
            3,
            &depth_tile(&rec_depth[i * p..(i + 1) * p], gt_depth, &mask),
        );
        grid.put(
            i,
            4,
            &normal_tile(&batch.normal[i * p3..(i + 1) * p3], &mask),
        );
        grid.put(
            i,
            5,
            &normal_tile(&rec_normal[i * p3..(i + 1) * p3], &all_valid),
        );
        grid.put(i, 6, &chw_to_hwc(&gen_img[i * p3..(i + 1) * p3], s));
        grid.put(
            i,
            7,
            &depth_tile(
                &gen_depth[i * p..(i + 1) * p],
                &gen_depth[i * p..(i + 1) * p],
                &all_valid,
            ),
        );
        grid.put(
            i,
            8,
            &normal_tile(&gen_normal[i * p3..(i + 1) * p3], &all_valid),
        );
    }
    grid.write_png(&dir.join(format!("{}.png", checkpoint::checkpoint_name(step))))
}
