//! A batch of 3D-IQTT questions as the networks take it: the four views of each question in a
//! row, and the answers.

use burn::tensor::{Device, Tensor};
use pix2scene_model::VIEWS;
use pix2scene_scene::Question;

use crate::batch::{HostBatch, tensor};
use crate::error::Result;

/// Questions in host memory: their views as one [`HostBatch`] of `4·questions` images
/// (question-major: the reference of question 0, its answers 1–3, then question 1, …) and the
/// index of each question's correct answer.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionBatch {
    /// The views, `4·len()` images.
    pub views: HostBatch,
    /// The correct answer (0, 1 or 2) of each question.
    pub answers: Vec<u8>,
}

impl QuestionBatch {
    /// Packs questions whose views are `size`² pixels.
    ///
    /// # Errors
    /// [`Error::Data`](crate::Error::Data) when a view has another size.
    pub fn new(questions: &[Question], size: usize) -> Result<Self> {
        let views: Vec<_> = questions
            .iter()
            .flat_map(|q| q.views.iter().cloned())
            .collect();
        Ok(Self {
            views: HostBatch::from_samples(&views, size)?,
            answers: questions.iter().map(|q| q.answer).collect(),
        })
    }

    /// Number of questions.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether the batch holds no question.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The images on `device`: `[4·len(), 3, size, size]`, question-major.
    pub fn images(&self, device: &Device) -> Tensor<4> {
        let (n, s) = (self.views.batch, self.views.size);
        tensor(&self.views.image, [n, 3, s, s], device)
    }

    /// The images on `device` grouped by question: `[len(), 4, 3, size, size]`.
    pub fn question_images(&self, device: &Device) -> Tensor<5> {
        let s = self.views.size;
        self.images(device).reshape([self.len(), VIEWS, 3, s, s])
    }
}

#[cfg(test)]
mod tests {
    use pix2scene_scene::{Generator, GeneratorConfig, Preset};

    use super::*;

    #[test]
    fn views_are_question_major() {
        let generator = Generator::new(GeneratorConfig::new(Preset::Iqtt, 8, 2)).unwrap();
        let questions = [generator.question(0), generator.question(1)];
        let batch = QuestionBatch::new(&questions, 8).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.answers, [questions[0].answer, questions[1].answer]);
        // View 2 of question 1 is image 6; pixel 10, red channel.
        let n = 64;
        assert_eq!(
            batch.views.image[6 * 3 * n + 10],
            questions[1].views[2].frame.image[30]
        );
        let grouped = batch.question_images(&Device::flex());
        assert_eq!(grouped.dims(), [2, 4, 3, 8, 8]);
    }
}
