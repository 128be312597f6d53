//! Answering 3D-IQTT questions from codes: the distance from the reference's code to each
//! answer's, and the answer with the nearest code (paper section 4.4.1: "we select the answer
//! closest to the reference image as measured by L2 distance").

use burn::tensor::{Device, Tensor, TensorData, assert_shape};

/// Answers per question.
pub const ANSWERS: usize = 3;

/// Views per question: the reference, then the three answers.
pub const VIEWS: usize = 1 + ANSWERS;

/// Squared L2 distance between the reference's code and each answer's.
///
/// # Shapes
/// - `codes`: `[batch, 4, dim]`, the codes of the reference (view 0) and answers 1–3 (views
///   1–3) of each question: Pix2Scene's scene codes `z[..118]`, or a baseline's features
/// - returns `[batch, 3]`: `‖codes[b, 0] − codes[b, 1 + k]‖²` for answer `k`
///
/// # Panics
/// If `codes` does not have 4 views.
pub fn option_distances(codes: Tensor<3>) -> Tensor<2> {
    assert_shape!(codes, [_, VIEWS, _]);
    let [batch, _, dim] = codes.dims();
    let reference = codes.clone().slice([0..batch, 0..1, 0..dim]);
    let answers = codes.slice([0..batch, 1..VIEWS, 0..dim]);
    (answers - reference)
        .powi_scalar(2)
        .sum_dim(2)
        .reshape([batch, ANSWERS])
}

/// The answer (0, 1 or 2) of each question with the smallest distance; ties go to the lowest
/// answer index.
///
/// # Shapes
/// - `distances`: `[batch, 3]`, e.g. from [`option_distances`]; NaN counts as infinite
pub fn nearest_options(distances: Tensor<2>) -> Vec<u8> {
    assert_shape!(distances, [_, ANSWERS]);
    let values: Vec<f32> = distances
        .into_data()
        .iter::<f32>()
        .map(|v| if v.is_nan() { f32::INFINITY } else { v })
        .collect();
    values
        .chunks_exact(ANSWERS)
        .map(|d| (1..ANSWERS).fold(0, |best, k| if d[k] < d[best] { k } else { best }) as u8)
        .collect()
}

/// One row per question with 1 at its correct answer and 0 elsewhere.
///
/// # Shapes
/// - `answers`: one index in `0..3` per question
/// - returns `[answers.len(), 3]`
///
/// # Panics
/// If an answer is not 0, 1 or 2.
pub fn answer_mask(answers: &[u8], device: &Device) -> Tensor<2> {
    let values: Vec<f32> = answers
        .iter()
        .flat_map(|&a| {
            assert!((a as usize) < ANSWERS, "answer {a} is not 0, 1 or 2");
            (0..ANSWERS).map(move |k| f32::from(u8::from(k == a as usize)))
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [answers.len(), ANSWERS]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{device, to_vec};

    /// Two questions with 2-d codes.
    fn codes() -> Tensor<3> {
        let values = [
            // Reference (0, 0); answers at squared distances 25, 1, 4.
            [0.0, 0.0, 3.0, 4.0, 1.0, 0.0, 0.0, -2.0],
            // Reference (1, 1); answers at squared distances 2, 2, 8: a tie for the nearest.
            [1.0, 1.0, 2.0, 2.0, 0.0, 0.0, 3.0, 3.0],
        ];
        let flat: Vec<f32> = values.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [2, 4, 2]), &device())
    }

    #[test]
    fn distances_and_nearest_answers_of_hand_made_codes() {
        let d = option_distances(codes());
        assert_eq!(to_vec(d.clone()), [25.0, 1.0, 4.0, 2.0, 2.0, 8.0]);
        assert_eq!(nearest_options(d), [1, 0]);
    }

    #[test]
    fn nan_distances_never_win_and_ties_take_the_lowest_index() {
        let d = Tensor::<2>::from_data(
            TensorData::new(vec![f32::NAN, 3.0, 3.0, 5.0, f32::NAN, 5.0], [2, 3]),
            &device(),
        );
        assert_eq!(nearest_options(d), [1, 0]);
    }

    #[test]
    fn answer_mask_marks_the_correct_answers() {
        let m = answer_mask(&[2, 0, 1], &device());
        assert_eq!(to_vec(m), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    }
}
