//! Figures of a trained Pix2Scene 3D-IQTT model: reconstructions of test questions (paper
//! Fig. 11) and questions with their scene codes' distances and the chosen answer.

use std::fmt::Write as _;
use std::path::Path;

use burn::module::Module;
use pix2scene_model::{VIEWS, nearest_options, option_distances};
use pix2scene_scene::{Question, RgbImage};

use super::pix2scene::Pix2SceneLearner;
use super::question_batch::QuestionBatch;
use crate::batch::host_values;
use crate::error::Result;
use crate::grid::{TileGrid, chw_to_hwc, depth_tile};
use pix2scene_scene::atomic_file::write_atomic;

/// Width of the frames around answers, pixels.
const FRAME_PX: usize = 2;

/// Frame colour of the chosen answer when it is correct.
const RIGHT: [f32; 3] = [0.1, 0.8, 0.2];

/// Frame colour of the chosen answer when it is wrong.
const WRONG: [f32; 3] = [0.9, 0.1, 0.1];

/// Frame colour of the correct answer when another was chosen.
const CORRECT: [f32; 3] = [0.2, 0.4, 1.0];

/// Writes `path` (PNG): one row per question, for each of its four views the input image, the
/// model's reconstruction (the rendered surfels composited by its foreground mask) and the
/// reconstructed depth inside the true foreground (colours over the truth's range).
///
/// The encoder and decoder normalize with the statistics of the figure's own images (training
/// mode, as the authors' code evaluates throughout), not their running statistics: those mix
/// every decoder pass of training, five of six of them on prior samples `G(z)`, and with them
/// the decoder's foreground mask of a reconstruction is close to 0, its image black
/// (docs/iqtt.md, "Figures"). Answers are chosen with the running statistics, as before; on
/// 2,000 test questions both give the same accuracy within its interval. The pass runs on a
/// copy with running statistics of its own, so the learner's are left as they were.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) naming the file, or [`Error::Data`](crate::Error::Data)
/// for views of another size.
pub fn write_reconstructions(
    learner: &Pix2SceneLearner,
    questions: &[Question],
    path: &Path,
) -> Result<()> {
    let trainer = &learner.trainer;
    let s = trainer.preset.model.resolution;
    let batch = QuestionBatch::new(questions, s)?;
    let views = &batch.views;
    let db = trainer.upload(views);
    let nets = trainer.nets.valid().train();
    let z = nets.encoder.forward(db.image.clone(), None);
    let (depth, mask) = nets.decoder.forward_with_mask(z, None, None);
    let lights = (db.light_pos.clone(), db.light_color.clone());
    let image = host_values(trainer.render(depth.clone(), mask, lights));
    let depth = host_values(depth);
    let input = host_values(db.image.inner());
    let (p, p3) = (s * s, 3 * s * s);
    let mut grid = TileGrid::new(questions.len(), 3 * VIEWS, s);
    for i in 0..views.batch {
        let (q, v) = (i / VIEWS, i % VIEWS);
        let truth_mask: Vec<u8> = views.mask[i * p..(i + 1) * p]
            .iter()
            .map(|&m| u8::from(m > 0.0))
            .collect();
        let truth = &views.depth[i * p..(i + 1) * p];
        grid.put(q, 3 * v, &chw_to_hwc(&input[i * p3..(i + 1) * p3], s));
        grid.put(q, 3 * v + 1, &chw_to_hwc(&image[i * p3..(i + 1) * p3], s));
        let rec = &depth[i * p..(i + 1) * p];
        grid.put(q, 3 * v + 2, &depth_tile(rec, truth, &truth_mask));
    }
    grid.write_png(path)
}

/// Writes `png` with one row per question (the reference, then answers 1–3; the chosen answer
/// framed green when right and red when wrong, the correct one then framed blue) and `table`
/// (Markdown): each question's scene-code distances from the reference to the answers, the
/// chosen answer and the correct one.
///
/// # Errors
/// As [`write_reconstructions`].
pub fn write_answered_questions(
    learner: &Pix2SceneLearner,
    questions: &[Question],
    png: &Path,
    table: &Path,
) -> Result<()> {
    let s = learner.trainer.preset.model.resolution;
    let batch = QuestionBatch::new(questions, s)?;
    let distances = option_distances(learner.scene_codes(&batch));
    let chosen = nearest_options(distances.clone());
    let distances = host_values(distances.sqrt());
    let input = host_values(batch.images(&learner.trainer.device().clone().inner()));
    let p3 = 3 * s * s;
    let mut grid = TileGrid::new(questions.len(), VIEWS, s);
    let mut md = String::from(
        "| question | distance to answer 1 | answer 2 | answer 3 | chosen | correct |\n\
         |---|---|---|---|---|---|\n",
    );
    for (q, question) in questions.iter().enumerate() {
        let (pick, right) = (chosen[q], question.answer);
        for v in 0..VIEWS {
            let i = q * VIEWS + v;
            let mut tile = RgbImage {
                width: s,
                height: s,
                data: chw_to_hwc(&input[i * p3..(i + 1) * p3], s),
            };
            let option = v.checked_sub(1).map(|o| o as u8);
            if option == Some(pick) {
                let colour = if pick == right { RIGHT } else { WRONG };
                tile.outline(0, 0, s, s, colour, FRAME_PX);
            } else if option == Some(right) {
                tile.outline(0, 0, s, s, CORRECT, FRAME_PX);
            }
            grid.put(q, v, &tile.data);
        }
        let d = &distances[q * 3..q * 3 + 3];
        let _ = writeln!(
            md,
            "| {} | {:.3} | {:.3} | {:.3} | {} | {} |",
            q + 1,
            d[0],
            d[1],
            d[2],
            pick + 1,
            right + 1
        );
    }
    grid.write_png(png)?;
    Ok(write_atomic(table, md.as_bytes())?)
}
