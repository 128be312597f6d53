//! The paper's CNN and Siamese CNN baselines trained for 3D-IQTT (section 4.4.1, Appendix D):
//! Adam on labelled questions only, cross-entropy for the CNN and the contrastive loss of
//! paper Eq. 7 for the Siamese CNN.

use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use pix2scene_model::{CnnBaseline, FusedAdamConfig, SiameseBaseline};

use super::config::{BaselinesSection, IqttPreset};
use super::learner::Learner;
use super::losses::IqttLosses;
use super::method::Method;
use super::question_batch::QuestionBatch;
use super::questions::QuestionSet;
use crate::error::Result;
use crate::trainer::checkpoint_io::{load_module, load_optimizer, save_module, save_optimizer};
use crate::trainer::{check_finite, init_seeded, scalar};

/// Weights file of a baseline in a checkpoint.
const WEIGHTS_FILE: &str = "baseline.bpk";

/// Optimizer state of a baseline in a checkpoint.
const OPTIMIZER_FILE: &str = "optim-baseline.bpk";

/// One of the two baseline networks.
#[derive(Module, Debug)]
pub enum BaselineNet {
    /// The CNN: four views through a shared trunk, fully connected layers to 3 logits.
    Cnn(CnnBaseline),
    /// The Siamese CNN: the trunk's features, answer by the nearest.
    Siamese(SiameseBaseline),
}

impl BaselineNet {
    /// The training loss of a batch of questions: cross-entropy (CNN) or Eq. 7 (Siamese).
    ///
    /// # Shapes
    /// - `images`: `[questions, 4, 3, R, R]`
    /// - returns `[1]`
    fn loss(&self, images: Tensor<5>, answers: &[u8]) -> Tensor<1> {
        match self {
            Self::Cnn(net) => CnnBaseline::loss(net.forward(images), answers),
            Self::Siamese(net) => net.loss(net.forward(images), answers),
        }
    }

    /// The answer (0, 1 or 2) of each question.
    ///
    /// # Shapes
    /// - `images`: `[questions, 4, 3, R, R]`
    fn answers(&self, images: Tensor<5>) -> Vec<u8> {
        match self {
            Self::Cnn(net) => CnnBaseline::answers(net.forward(images)),
            Self::Siamese(net) => SiameseBaseline::answers(net.forward(images)),
        }
    }
}

/// A baseline trained for 3D-IQTT: one Adam step per labelled batch, `baselines.steps` of
/// them; none without labelled questions (the untrained network then answers, as the paper's
/// 0-label row).
pub struct BaselineLearner {
    /// The network being trained.
    pub net: BaselineNet,
    optimizer: ModuleOptimizer,
    questions: QuestionSet,
    section: BaselinesSection,
    size: usize,
    device: Device,
}

impl BaselineLearner {
    /// A fresh baseline (seeded by `run.seed`) of `method` on `device` (an autodiff device).
    ///
    /// # Panics
    /// If `method` is [`Method::Pix2Scene`].
    pub fn new(
        preset: &IqttPreset,
        method: Method,
        questions: QuestionSet,
        device: &Device,
    ) -> Self {
        let b = &preset.baselines;
        let net = init_seeded(preset.run.seed, device, |host| match method {
            Method::Cnn => BaselineNet::Cnn(b.cnn().init(host)),
            Method::Siamese => BaselineNet::Siamese(b.siamese().init(host)),
            Method::Pix2Scene => panic!("pix2scene is not a baseline"),
        });
        Self {
            net,
            optimizer: FusedAdamConfig::new().init(),
            questions,
            section: b.clone(),
            size: preset.model.resolution,
            device: device.clone(),
        }
    }
}

impl Learner for BaselineLearner {
    fn steps(&self) -> u64 {
        if self.questions.labels() == 0 {
            0
        } else {
            self.section.steps
        }
    }

    fn iteration(&mut self, step: u64) -> Result<IqttLosses> {
        let questions = self.questions.labelled_batch(step, self.section.batch);
        let batch = QuestionBatch::new(&questions, self.size)?;
        let loss = self
            .net
            .loss(batch.question_images(&self.device), &batch.answers);
        let value = scalar(loss.clone());
        check_finite(&[("question", value)], step + 1)?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.net);
        let net = self.net.clone();
        self.net = self.optimizer.step(self.section.lr, net, grads);
        Ok(IqttLosses {
            question: value,
            supervised: true,
            ..IqttLosses::default()
        })
    }

    fn answers(&self, batch: &QuestionBatch) -> Vec<u8> {
        let images = batch.question_images(&self.device).inner();
        self.net.valid().answers(images)
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let _synced = self.net.valid();
        save_module(&self.net, &dir.join(WEIGHTS_FILE))?;
        save_optimizer(&self.optimizer, &dir.join(OPTIMIZER_FILE))
    }

    fn files(&self) -> Vec<&'static str> {
        vec![WEIGHTS_FILE, OPTIMIZER_FILE]
    }

    fn load(&mut self, dir: &Path) -> Result<()> {
        load_module(&mut self.net, &dir.join(WEIGHTS_FILE))?;
        load_optimizer(
            &mut self.optimizer,
            &FusedAdamConfig::new(),
            &dir.join(OPTIMIZER_FILE),
        )
    }
}
