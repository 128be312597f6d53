//! Pix2Scene on 3D-IQTT (paper section 4.4.1, Algorithm 1): the ALI objective and Eq. 4 on the
//! unlabelled question images, the MINE penalty on `I(z_scene; z_view)`, and every
//! `iqtt.supervised_every` iterations Eq. 5 on a batch of labelled questions, in one update of
//! the encoder and decoder; the statistics network ascends the same MINE estimate.

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use pix2scene_model::{
    ANSWERS, MineAverage, MineEstimate, StatisticsConfig, StatisticsNetwork, VIEWS,
    contrastive_loss, mine, nearest_options, option_distances, question_loss, triplet_loss,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::config::{IqttPreset, IqttSection};
use super::learner::Learner;
use super::losses::IqttLosses;
use super::question_batch::QuestionBatch;
use super::questions::QuestionSet;
use crate::batch::DeviceBatch;
use crate::data::Prefetcher;
use crate::error::{Error, Result};
use crate::noise::IterationNoise;
use crate::trainer::checkpoint_io::{load_module, load_optimizer, save_module, save_optimizer};
use crate::trainer::{Trainer, adam_config, check_finite, init_seeded, scalar};
use pix2scene_scene::Question;
use pix2scene_scene::atomic_file::write_atomic;

/// Added to `run.seed` for the statistics network's initial weights.
const STATISTICS_SEED: u64 = 0x5747_1571;

/// The MINE average in a checkpoint (`mine.json`).
#[derive(Serialize, Deserialize)]
struct MineState {
    rate: f64,
    value: Option<f64>,
}

/// Pix2Scene trained for 3D-IQTT.
pub struct Pix2SceneLearner {
    /// Encoder, decoder, critic (without camera conditioning) and their optimizers.
    pub trainer: Trainer,
    /// The MINE statistics network `T(z_scene, z_view)` (paper Table 7).
    pub statistics: StatisticsNetwork,
    /// MINE's moving average of `E[e^T]`.
    pub mine_average: MineAverage,
    opt_statistics: ModuleOptimizer,
    questions: QuestionSet,
    section: IqttSection,
    margin: f64,
    prefetch: Option<Prefetcher>,
}

impl Pix2SceneLearner {
    /// Fresh networks (seeded by `run.seed`) on `device` (an autodiff device) for `questions`.
    pub fn new(preset: &IqttPreset, questions: QuestionSet, device: &Device) -> Self {
        let size = preset.model.resolution;
        let renderer = questions.unlabelled_views().renderer_config(size);
        let trainer = Trainer::new(&preset.train_preset(), renderer, device);
        let q = &preset.iqtt;
        let statistics = init_seeded(preset.run.seed ^ STATISTICS_SEED, device, |host| {
            StatisticsConfig::new()
                .with_scene_dim(q.scene_dim)
                .with_view_dim(preset.model.z_dim - q.scene_dim)
                .with_width(q.statistics_width)
                .init(host)
        });
        let opt_statistics = adam_config(&preset.optim).init();
        Self {
            trainer,
            statistics,
            mine_average: MineAverage::new(q.mine_rate),
            opt_statistics,
            questions,
            section: q.clone(),
            margin: preset.baselines.margin,
            prefetch: None,
        }
    }

    /// The scene codes of each question's views, the networks in inference mode:
    /// `[questions, 4, scene_dim]`, without autodiff.
    pub fn scene_codes(&self, batch: &QuestionBatch) -> Tensor<3> {
        let images = batch.images(self.trainer.device()).inner();
        let codes = self.trainer.nets.valid().encoder.forward(images, None);
        self.scene_part(codes, batch.len())
    }

    /// `codes[.., ..scene_dim]` grouped by question: `[questions, 4, scene_dim]`.
    fn scene_part(&self, codes: Tensor<2>, questions: usize) -> Tensor<3> {
        let [_, z] = codes.dims();
        codes
            .reshape([questions, VIEWS, z])
            .narrow(2, 0, self.section.scene_dim)
    }

    /// The `optim.critic_steps + 1` batches of unlabelled images of iteration `step`.
    fn unlabelled_batches(&mut self, step: u64) -> Result<Vec<DeviceBatch>> {
        let per_iter = self.trainer.preset.optim.critic_steps as u64 + 1;
        let size = self.trainer.preset.model.resolution;
        let batch = self.trainer.preset.optim.batch;
        let source = self.questions.unlabelled_views();
        let prefetch = self
            .prefetch
            .get_or_insert_with(|| Prefetcher::start(source, size, batch, step * per_iter, 1, 2));
        (0..per_iter)
            .map(|_| Ok(self.trainer.upload(&prefetch.next_batch()?)))
            .collect()
    }

    /// The supervised loss on labelled batch `k`: Eq. 5 (or the contrastive loss) on the scene
    /// codes, the encoder in training mode. `[1]`, with autodiff history.
    fn question_term(&self, k: u64) -> Result<Tensor<1>> {
        let size = self.trainer.preset.model.resolution;
        let questions = self
            .questions
            .labelled_batch(k, self.section.question_batch);
        let batch = QuestionBatch::new(&questions, size)?;
        Ok(self.supervised_loss(batch.images(self.trainer.device()), &batch.answers))
    }

    /// The supervised loss (`iqtt.question_loss`) of questions whose views are `images`
    /// (`[4·Q, 3, R, R]`, question-major) and whose right answers are `answers` (`Q`), the
    /// encoder in training mode. `[1]`, with autodiff history.
    fn supervised_loss(&self, images: Tensor<4>, answers: &[u8]) -> Tensor<1> {
        let codes = self.trainer.nets.encoder.forward(images, None);
        let distances = option_distances(self.scene_part(codes, answers.len()));
        match self.section.question_loss_for(self.questions.labels()) {
            "contrastive" => contrastive_loss(distances, answers, self.margin),
            "triplet" => triplet_loss(distances, answers, self.margin),
            _ => question_loss(distances, answers),
        }
    }

    /// The pseudo-label term (`iqtt.pseudo_weight`) of iteration `step` on unlabelled batch
    /// `step`: the questions the encoder (inference mode) answers confidently, with its answers
    /// as labels and each view turned by `(step + v) mod 4` quarter turns. `None` when no
    /// question is answered confidently (or none is unlabelled); otherwise the loss (`[1]`,
    /// with autodiff history) and the fraction of the batch kept.
    fn pseudo_term(&self, step: u64) -> Result<Option<(Tensor<1>, f32)>> {
        let size = self.trainer.preset.model.resolution;
        let questions = self
            .questions
            .unlabelled_batch(step, self.section.question_batch);
        if questions.is_empty() {
            return Ok(None);
        }
        let batch = QuestionBatch::new(&questions, size)?;
        let distances: Vec<f32> = option_distances(self.scene_codes(&batch))
            .into_data()
            .iter::<f32>()
            .collect();
        let ratio = self.section.pseudo_ratio;
        let confident: Vec<Question> = questions
            .into_iter()
            .zip(distances.chunks_exact(ANSWERS))
            .filter_map(|(mut question, d)| {
                let (answer, nearest, second) = confident_answer(d)?;
                (nearest <= ratio * second).then(|| {
                    question.answer = answer;
                    question
                })
            })
            .collect();
        if confident.is_empty() {
            return Ok(None);
        }
        let kept = confident.len() as f32 / self.section.question_batch as f32;
        let batch = QuestionBatch::new(&confident, size)?;
        let images = turn_views(batch.images(self.trainer.device()), step);
        Ok(Some((self.supervised_loss(images, &batch.answers), kept)))
    }

    /// The camera-roll term (`iqtt.roll_weight`) of iteration `step` on unlabelled `images`
    /// (`[B, 3, R, R]`, B ≥ 3) whose codes (`[B, z]`, with autodiff history) the generator step
    /// computed: every image is turned by `90° · (1 + step mod 3)` and encoded again, and image
    /// `i`'s scene code is a question whose right answer is its own turned code and whose two
    /// wrong ones are those of images `i + 1` and `i + 2` (cyclically), under the contrastive
    /// loss of Eq. 7. `[1]`, with autodiff history.
    fn roll_term(&self, images: Tensor<4>, codes: Tensor<2>, step: u64) -> Tensor<1> {
        let turned = rotate_quarter_turns(images, 1 + (step % 3) as usize);
        let turned = self.trainer.nets.encoder.forward(turned, None);
        let [b, _] = codes.dims();
        let sd = self.section.scene_dim;
        let (own, turned) = (codes.narrow(1, 0, sd), turned.narrow(1, 0, sd));
        let shifted = |k: usize| {
            Tensor::cat(
                vec![
                    turned.clone().narrow(0, k, b - k),
                    turned.clone().narrow(0, 0, k),
                ],
                0,
            )
        };
        let questions = Tensor::stack(vec![own, turned.clone(), shifted(1), shifted(2)], 1);
        contrastive_loss(option_distances(questions), &vec![0; b], self.margin)
    }
}

/// `images` (`[B, C, R, R]`) turned by `k` quarter turns counter-clockwise (as a camera rolled
/// clockwise about its axis would see them).
fn rotate_quarter_turns(images: Tensor<4>, k: usize) -> Tensor<4> {
    (0..k % 4).fold(images, |x, _| x.swap_dims(2, 3).flip([2]))
}

/// The nearest option of a question's three squared distances, its distance and the second
/// nearest's; `None` when a distance is not finite.
fn confident_answer(d: &[f32]) -> Option<(u8, f32, f32)> {
    if !d.iter().all(|v| v.is_finite()) {
        return None;
    }
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]).then(a.cmp(&b)));
    Some((order[0] as u8, d[order[0]], d[order[1]]))
}

/// The views of questions (`[4·Q, C, R, R]`, question-major), view `v` of every question turned
/// by `(step + v) mod 4` quarter turns counter-clockwise, so that the four views of a question
/// are all turned differently.
fn turn_views(images: Tensor<4>, step: u64) -> Tensor<4> {
    let [n, c, r, _] = images.dims();
    let q = n / VIEWS;
    let grouped = images.reshape([q, VIEWS, c, r, r]);
    let turned = (0..VIEWS)
        .map(|v| {
            let view = grouped.clone().narrow(1, v, 1).reshape([q, c, r, r]);
            rotate_quarter_turns(view, (step as usize + v) % 4).reshape([q, 1, c, r, r])
        })
        .collect();
    Tensor::cat(turned, 1).reshape([n, c, r, r])
}

impl Learner for Pix2SceneLearner {
    fn steps(&self) -> u64 {
        self.trainer.preset.run.steps
    }

    fn iteration(&mut self, step: u64) -> Result<IqttLosses> {
        let batches = self.unlabelled_batches(step)?;
        let c = self.trainer.preset.optim.critic_steps;
        let device = self.trainer.device().clone();
        let noise = IterationNoise::draw(&self.trainer.preset, step);
        let mut losses = IqttLosses::default();
        for (j, batch) in batches[..c].iter().enumerate() {
            let lights = noise.generator_lights(j, batch, &device);
            let (l, w, gp) = self.trainer.critic_step(
                batch,
                &noise.critic_z[j],
                &noise.critic_alpha[j],
                lights,
                step + 1,
            )?;
            losses.ali.critic += l / c as f32;
            losses.ali.wasserstein += w / c as f32;
            losses.ali.gradient_penalty += gp / c as f32;
        }
        let lights = noise.generator_lights(c, &batches[c], &device);
        let g = self
            .trainer
            .generator_loss(&batches[c], &noise.generator_z, lights, step + 1)?;
        [
            losses.ali.adversarial,
            losses.ali.recon_x,
            losses.ali.recon_z,
            losses.ali.planarity,
            losses.ali.refine,
        ] = g.terms;
        // MINE: the encoder descends the estimate through its codes (the statistics network
        // fixed); the moving average is advanced by the statistics step below only.
        let [b, _] = g.codes.dims();
        let permutation = shuffled(self.trainer.preset.run.seed, step, b);
        let mut average = self.mine_average;
        let frozen = self.statistics.clone().no_grad();
        let sd = self.section.scene_dim;
        let codes = g.codes.clone();
        let estimate = mine_of_codes(&frozen, codes, sd, &permutation, &mut average);
        losses.mine = scalar(estimate.estimate.clone());
        let mut loss = g.loss + estimate.corrected.mul_scalar(self.section.mine_weight);
        if self.section.roll_weight > 0.0 {
            let term = self.roll_term(batches[c].image.clone(), g.codes.clone(), step);
            losses.roll = scalar(term.clone());
            loss = loss + term.mul_scalar(self.section.roll_weight);
        }
        if self.section.pseudo_weight > 0.0
            && let Some((term, kept)) = self.pseudo_term(step)?
        {
            losses.pseudo = scalar(term.clone());
            losses.pseudo_kept = kept;
            loss = loss + term.mul_scalar(self.section.pseudo_weight);
        }
        let k = self.section.supervised_every;
        if self.questions.labels() > 0 && (step + 1).is_multiple_of(k) {
            let term = self.question_term((step + 1) / k - 1)?;
            losses.question = scalar(term.clone());
            losses.supervised = true;
            let weight = self.section.question_weight_for(self.questions.labels());
            loss = loss + term.mul_scalar(weight);
        }
        losses.ali.generator = scalar(loss.clone());
        check_finite(
            &[
                ("mine", losses.mine),
                ("question", losses.question),
                ("pseudo", losses.pseudo),
                ("generator", losses.ali.generator),
            ],
            step + 1,
        )?;
        let codes = g.codes.detach();
        self.trainer.apply_generator(loss, step + 1);
        // The statistics network ascends the bias-corrected estimate on the same pairs.
        let ascent = mine_of_codes(
            &self.statistics,
            codes,
            sd,
            &permutation,
            &mut self.mine_average,
        );
        let grads =
            GradientsParams::from_grads(ascent.corrected.neg().backward(), &self.statistics);
        let statistics = self.statistics.clone();
        self.statistics = self
            .opt_statistics
            .step(self.section.statistics_lr, statistics, grads);
        Ok(losses)
    }

    fn answers(&self, batch: &QuestionBatch) -> Vec<u8> {
        nearest_options(option_distances(self.scene_codes(batch)))
    }

    fn save(&self, dir: &Path) -> Result<()> {
        self.trainer.write_weights(dir)?;
        save_module(&self.statistics, &dir.join("statistics.bpk"))?;
        save_optimizer(&self.opt_statistics, &dir.join("optim-statistics.bpk"))?;
        let state = MineState {
            rate: self.mine_average.rate,
            value: self.mine_average.value,
        };
        let json = serde_json::to_string(&state).expect("the MINE average serializes");
        Ok(write_atomic(&dir.join("mine.json"), json.as_bytes())?)
    }

    fn files(&self) -> Vec<&'static str> {
        let mut files = self.trainer.weight_files();
        files.extend(["statistics.bpk", "optim-statistics.bpk", "mine.json"]);
        files
    }

    fn load(&mut self, dir: &Path) -> Result<()> {
        self.trainer.read_weights(dir)?;
        load_module(&mut self.statistics, &dir.join("statistics.bpk"))?;
        load_optimizer(
            &mut self.opt_statistics,
            &adam_config(&self.trainer.preset.optim),
            &dir.join("optim-statistics.bpk"),
        )?;
        let path = dir.join("mine.json");
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        let state: MineState = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
            path: path.clone(),
            message: e.to_string(),
        })?;
        self.mine_average = MineAverage {
            rate: state.rate,
            value: state.value,
        };
        Ok(())
    }
}

/// Paper Eq. 6 on whole codes: the [`mine`] estimate of `I(z[..scene_dim]; z[scene_dim..])`.
/// With codes that carry the encoder's autodiff history, the estimate's gradient reaches the
/// encoder (which descends it); with a network whose parameters are not tracked
/// ([`Module::no_grad`]), only the codes receive it.
///
/// # Shapes
/// - `codes`: `[batch, z_dim]`
/// - `permutation`: a permutation of `0..batch` (the product-of-marginals pairs)
pub fn mine_of_codes(
    statistics: &StatisticsNetwork,
    codes: Tensor<2>,
    scene_dim: usize,
    permutation: &[usize],
    average: &mut MineAverage,
) -> MineEstimate {
    let [_, z] = codes.dims();
    let scene = codes.clone().narrow(1, 0, scene_dim);
    let view = codes.narrow(1, scene_dim, z - scene_dim);
    mine(statistics, scene, view, permutation, average)
}

/// The seeded permutation of `0..n` that pairs each scene code with another view code for the
/// product of the marginals at iteration `step`.
fn shuffled(seed: u64, step: u64, n: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ STATISTICS_SEED);
    rng.set_stream(step);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::{Distribution, TensorData};
    use pix2scene_model::EncoderConfig;

    use super::*;

    /// A quarter turn is counter-clockwise (the top-right pixel goes to the top left), on
    /// images of any shape, and four of them are the identity.
    #[test]
    fn quarter_turns_turn_counter_clockwise() {
        let host = Device::flex();
        // One channel, 2 rows × 3 columns: [[0, 1, 2], [3, 4, 5]].
        let image = Tensor::<4>::from_data(
            TensorData::new((0..6).map(|v| v as f32).collect::<Vec<_>>(), [1, 1, 2, 3]),
            &host,
        );
        let turned = rotate_quarter_turns(image.clone(), 1);
        assert_eq!(turned.dims(), [1, 1, 3, 2]);
        let values: Vec<f32> = turned.to_data().try_to_vec().unwrap();
        assert_eq!(values, [2.0, 5.0, 1.0, 4.0, 0.0, 3.0]);
        let half: Vec<f32> = rotate_quarter_turns(image.clone(), 2)
            .to_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(half, [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
        let square = Tensor::<4>::random([2, 3, 5, 5], Distribution::Default, &host);
        let back: Vec<f32> = rotate_quarter_turns(square.clone(), 4)
            .to_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(back, square.to_data().try_to_vec::<f32>().unwrap());
    }

    /// A question's nearest option, its distance and the second nearest's, the lower index
    /// first among equals; a question with a non-finite distance has no answer.
    #[test]
    fn the_confident_answer_is_the_nearest_option() {
        assert_eq!(confident_answer(&[3.0, 1.0, 2.0]), Some((1, 1.0, 2.0)));
        assert_eq!(confident_answer(&[0.5, 4.0, 0.5]), Some((0, 0.5, 0.5)));
        assert_eq!(confident_answer(&[2.0, 9.0, 0.0]), Some((2, 0.0, 2.0)));
        assert_eq!(confident_answer(&[f32::NAN, 1.0, 2.0]), None);
        assert_eq!(confident_answer(&[1.0, f32::INFINITY, 2.0]), None);
    }

    /// View `v` of every question is turned by `(step + v) mod 4` quarter turns and stays in
    /// its place.
    #[test]
    fn each_view_of_a_question_is_turned_differently() {
        let host = Device::flex();
        let images = Tensor::<4>::random([8, 2, 5, 5], Distribution::Default, &host);
        for step in [0, 3, 6] {
            let turned = turn_views(images.clone(), step);
            for i in 0..8 {
                let one = |t: Tensor<4>| -> Vec<f32> { t.to_data().try_to_vec().unwrap() };
                let expected =
                    rotate_quarter_turns(images.clone().narrow(0, i, 1), (step as usize + i) % 4);
                assert_eq!(
                    one(turned.clone().narrow(0, i, 1)),
                    one(expected),
                    "step {step}, image {i}"
                );
            }
        }
    }

    /// The encoder receives MINE's gradient through its codes (the statistics network fixed,
    /// as in the encoder's step), and it is the derivative of the estimate: with the moving
    /// average at rate 1 the bias-corrected gradient is the plain one, so it matches central
    /// finite differences of the estimate in the encoder's output weights.
    #[test]
    fn the_encoder_receives_the_mine_gradient() {
        let device = Device::flex().autodiff();
        let host = Device::flex();
        host.seed(5);
        let encoder = EncoderConfig::new(8)
            .with_width(4)
            .with_z_dim(6)
            .with_camera_dim(0)
            .init(&device);
        let statistics = StatisticsConfig::new()
            .with_scene_dim(4)
            .with_view_dim(2)
            .with_width(8)
            .init(&device)
            .no_grad();
        let images = Tensor::<4>::random([6, 3, 8, 8], Distribution::Default, &host);
        let permutation = [3, 0, 5, 1, 2, 4];
        let estimate = |encoder: &pix2scene_model::Encoder| {
            let codes = encoder.forward(images.clone().autodiff(), None);
            mine_of_codes(
                &statistics,
                codes,
                4,
                &permutation,
                &mut MineAverage::new(1.0),
            )
        };
        let e = estimate(&encoder);
        let grads = e.corrected.backward();
        let weight = encoder.head.weight.val();
        let grad: Vec<f32> = weight
            .grad(&grads)
            .expect("the encoder gets a gradient")
            .to_data()
            .try_to_vec()
            .unwrap();
        assert!(
            grad.iter().map(|g| g.abs()).fold(0.0, f32::max) > 1e-4,
            "{grad:?}"
        );
        let values: Vec<f32> = weight.to_data().try_to_vec().unwrap();
        let dims = weight.dims();
        let h = 1e-2;
        for i in [0, 17, 40, grad.len() - 1] {
            let at = |d: f32| {
                let mut v = values.clone();
                v[i] += d;
                let mut moved = encoder.clone();
                moved.head.weight =
                    Param::from_tensor(Tensor::from_data(TensorData::new(v, dims), &device));
                estimate(&moved).estimate.into_scalar::<f32>()
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 2e-3 + 0.05 * grad[i].abs(),
                "weight {i}: autodiff {} vs {fd}",
                grad[i]
            );
        }
    }
}
